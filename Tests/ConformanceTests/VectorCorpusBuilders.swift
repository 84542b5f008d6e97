import VectorCorpus

// The archive builders live in VectorCorpus (the golden vectors reuse every rule-trigger fixture). These aliases
// make them visible to every file of this target without each importing VectorCorpus, so that test files added
// in parallel keep compiling; members (including the `[V2TestEntry]` editing helpers) come with the import.
typealias V2TestEntry = VectorCorpus.V2TestEntry
typealias V2TestLayout = VectorCorpus.V2TestLayout
typealias V2TestArchive = VectorCorpus.V2TestArchive
typealias V2Built = VectorCorpus.V2Built
typealias V2TestMember = VectorCorpus.V2TestMember
typealias V2Patch = VectorCorpus.V2Patch
typealias TarTestHeader = VectorCorpus.TarTestHeader
typealias TarTestStream = VectorCorpus.TarTestStream
typealias V1TestArchive = VectorCorpus.V1TestArchive
typealias V1TestEntry = VectorCorpus.V1TestEntry
