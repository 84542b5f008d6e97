// Links FoundationEssentials and libxml2 as ckpt-validate does (its JUnit report), and does nothing: its run time
// is the start-up that any validator shipped that way pays before it reads a byte.
import CLibXML2
import FoundationEssentials

if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "--junit" {
    // Never taken in the benchmark; keeps libxml2's tree and serialiser, and FoundationEssentials, in the binary.
    let document = xmlNewDoc(nil)
    xmlFreeDoc(document)
    print(Data(CommandLine.arguments[1].utf8).count)
}
