// libxml2's tree and serialiser, for XMLWriter. Its encoding header includes ICU's headers when libxml2 was built
// with ICU (LIBXML_ICU_ENABLED), and their types clash with those of Foundation's own copy of ICU
// (_FoundationICU) in any module that sees both, such as the test runner's. Nothing here uses the ICU parts (the
// converter fields of xmlCharEncodingHandler, which XMLWriter never touches), so they are left out.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
