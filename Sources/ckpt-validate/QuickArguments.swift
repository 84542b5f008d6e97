import Conformance

/// Reads the usual `ckpt-validate` command lines directly: long options with their values (`--x v` or
/// `--x=v`), flags, `--`, and files. ArgumentParser builds its parser by reflection at every start, which
/// costs more than validating a small archive; for anything this does not recognise exactly (help, a short
/// option, an unknown name, a missing or invalid value) it returns nil and ArgumentParser takes over, so
/// help and error messages stay ArgumentParser's. A test holds the two to the same result.
enum QuickArguments {
    static func parse<C: Collection>(_ arguments: C) -> ValidateRun? where C.Element == String {
        var run = ValidateRun()
        var positionalOnly = false
        var it = arguments.makeIterator()
        while let arg = it.next() {
            if positionalOnly || arg == "-" || !arg.hasPrefix("-") {
                run.files.append(arg)
                continue
            }
            if arg == "--" {
                positionalOnly = true
                continue
            }
            guard arg.hasPrefix("--") else { return nil }
            var name = Substring(arg.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = name[..<eq]
                if inline?.isEmpty == true { return nil }  // ArgumentParser refuses `--x=`
            }
            switch name {
            case "strict", "no-digests", "quiet":
                guard inline == nil else { return nil }
                if name == "strict" { run.strict = true }
                if name == "no-digests" { run.noDigests = true }
                if name == "quiet" { run.quiet = true }
                continue
            default:
                break
            }
            // Options take the inline value or the next argument (which may not look like an option).
            guard let value = inline ?? it.next(), inline != nil || !value.hasPrefix("-") else { return nil }
            switch name {
            case "profile":
                guard let p = ValidatorOptions.ProfileChoice(rawValue: value) else { return nil }
                run.profile = p
            case "format":
                guard let f = ValidateRun.OutputFormat(rawValue: value) else { return nil }
                run.format = f
            case "expect-index-digest": run.expectIndexDigest = value
            case "max-pax-header":
                guard let n = Int64(value) else { return nil }
                run.maxPaxHeader = n
            case "max-entries":
                guard let n = Int(value) else { return nil }
                run.maxEntries = n
            case "max-diagnostics":
                guard let n = Int(value) else { return nil }
                run.maxDiagnostics = n
            default:
                return nil
            }
        }
        return run.usageProblem == nil ? run : nil
    }
}
