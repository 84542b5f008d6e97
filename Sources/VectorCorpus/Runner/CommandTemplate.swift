import Foundation

/// A command line another implementation supplies, with placeholders the runner fills in: `{archive}` and
/// `{dir}` for a decoder (`CMD {archive} {dir}`), `{dir}` and `{archive}` for an encoder, `{digest}` in the
/// option that passes an expected index digest. Each placeholder is replaced by the value in single quotes, and
/// the result is run by `/bin/sh -c`, so a template may use pipes and redirections
/// (`mydecoder - {dir} < {archive}`).
public struct CommandTemplate: Sendable, Equatable {
    public let text: String

    /// - Parameter required: placeholder names (without braces) the template must contain.
    /// - Throws: `VectorError` when one is missing.
    public init(_ text: String, requiring required: [String]) throws {
        for name in required where !text.contains("{\(name)}") {
            throw VectorError("the command '\(text)' lacks the placeholder {\(name)}")
        }
        self.text = text
    }

    /// The command with every `{name}` replaced by the quoted value.
    public func render(_ values: [String: String]) -> String {
        var out = text
        for (name, value) in values { out = out.replacingOccurrences(of: "{\(name)}", with: ShellQuoting.quote(value)) }
        return out
    }
}

/// Quoting for `/bin/sh`.
public enum ShellQuoting {
    /// `s` in single quotes, with every `'` written as `'\''`.
    public static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
