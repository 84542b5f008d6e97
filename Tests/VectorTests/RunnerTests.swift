import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import TestSupport
import VectorCorpus
import XCTest

/// `ckpt-vectors run`: our own decoder and encoder pass on the whole corpus, and the runner catches a lax decoder
/// (plain `tar -x`), escapes from `{dir}`, crashes, hangs and commands that cannot run.
final class RunnerTests: XCTestCase {
    let tool = TestTools.product("ckpt-vectors")
    let ckpt = TestTools.product("ckpt")
    let root = TestTools.repositoryRoot.path
    var vectors: String { root + "/Vectors" }
    var lax: String { root + "/Tests/VectorTests/Fixtures/lax-decoder.sh" }
    /// Under ASan and TSan (.ci/sanitizers) the products are sanitized too, and a sanitizer reserves terabytes of
    /// shadow address space at start: the runner's default `ulimit -v` of 4 GiB makes every command fail before main.
    var limits: [String] { Sanitizer.current == nil ? [] : ["--memory-limit", "0"] }

    func manifest() throws -> VectorManifest {
        try JSONDecoder().decode(VectorManifest.self, from: Data(contentsOf: URL(fileURLWithPath: vectors + "/manifest.json")))
    }

    /// The JUnit file as (suite, testcase name, failed, skipped) rows, read with FoundationXML.
    func junitRows(_ path: String) throws -> [(suite: String, name: String, failed: Bool, skipped: Bool)] {
        let doc = try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: [])
        var rows: [(String, String, Bool, Bool)] = []
        for suite in try doc.nodes(forXPath: "/testsuites/testsuite") {
            guard let s = suite as? XMLElement else { continue }
            let suiteName = s.attribute(forName: "name")?.stringValue ?? ""
            for tc in s.elements(forName: "testcase") {
                rows.append((suiteName, tc.attribute(forName: "name")?.stringValue ?? "",
                             !tc.elements(forName: "failure").isEmpty, !tc.elements(forName: "skipped").isEmpty))
            }
        }
        return rows
    }

    /// The JUnit file read by Python's xml.etree: "suite name failed" per test case.
    func junitByPython(_ path: String) throws -> [String] {
        let script = """
            import sys, xml.etree.ElementTree as ET
            root = ET.parse(sys.argv[1]).getroot()
            assert root.tag == "testsuites", root.tag
            for s in root.findall("testsuite"):
                assert int(s.get("tests")) == len(s.findall("testcase"))
                for t in s.findall("testcase"):
                    print(s.get("name"), t.get("name"), "FAIL" if t.find("failure") is not None else "ok")
            """
        let r = try TestTools.run(["python3", "-c", script, path])
        XCTAssertEqual(r.status, 0, r.stderrText)
        return r.stdoutText.split(separator: "\n").map(String.init)
    }

    func testOurDecoderPassesEveryVector() throws {
        let junit = try TestTools.temporaryDirectory(self).appendingPathComponent("run.xml").path
        let started = Date()
        let r = try TestTools.spawn([tool, "run", "--vectors", vectors,
                                     "--decoder", "\(ckpt) extract --quiet {archive} {dir}",
                                     "--pin", "--expect-index-digest {digest}", "--junit", junit] + limits)
        print("ckpt-vectors run over the corpus with ckpt extract: \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        XCTAssertEqual(r.status, 0, r.stdoutText + r.stderrText)
        let count = try manifest().numberOfTests
        XCTAssertTrue(r.stdoutText.contains("decoder: \(count) vectors: \(count) passed, 0 failed, 0 skipped"), r.stdoutText)
        XCTAssertEqual(r.stdoutText.split(separator: "\n").filter { $0.hasPrefix("ok   ") }.count, count)
        let rows = try junitRows(junit)
        XCTAssertEqual(rows.count, count)
        XCTAssertEqual(Set(rows.map(\.name)), Set(try manifest().cases.map(\.id)))
        XCTAssertFalse(rows.contains { $0.failed || $0.skipped })
        let python = try junitByPython(junit)
        XCTAssertEqual(python.count, count)
        XCTAssertTrue(python.allSatisfy { $0.hasPrefix("decoder ") && $0.hasSuffix(" ok") }, python.joined(separator: "\n"))
    }

    func testLaxDecoderIsCaught() throws {
        let junit = try TestTools.temporaryDirectory(self).appendingPathComponent("lax.xml").path
        let r = try TestTools.spawn([tool, "run", "--vectors", vectors, "--decoder", "sh \(lax) {archive} {dir}",
                                     "--filter", "v2-idx-content-flipped", "--filter", "v2-cnt-bind-mount-traversal",
                                     "--filter", "v2-rfs-deleted-dotdot", "--filter", "v2-worked-example",
                                     "--filter", "v2-hdr-profile-docker", "--filter", "v2-xattrs", "--junit", junit])
        XCTAssertEqual(r.status, 1, r.stdoutText + r.stderrText)
        let out = r.stdoutText
        // A digest mismatch and two unsafe container paths (podman#27977) unpacked without a word.
        for id in ["v2-idx-content-flipped", "v2-cnt-bind-mount-traversal", "v2-rfs-deleted-dotdot"] {
            XCTAssertTrue(out.contains("FAIL \(id) (invalid): accepted an invalid archive"), out)
        }
        XCTAssertTrue(out.contains("breaks the decoder rule(s) CKA-IDX-005"), out)
        XCTAssertTrue(out.contains("breaks the decoder rule(s) CKA-SEC-010"), out)
        // Plain tar drops xattrs: the tree differs.
        XCTAssertTrue(out.contains("FAIL v2-xattrs (valid): tree differs"), out)
        // What plain tar gets right passes: a valid tree, and an invalid case whose rule binds no decoder.
        XCTAssertTrue(out.contains("ok   v2-worked-example (valid): tree equal"), out)
        XCTAssertTrue(out.contains("ok   v2-hdr-profile-docker (invalid): accepted; decoder not bound"), out)
        XCTAssertTrue(out.contains("decoder: 6 vectors: 2 passed, 4 failed, 0 skipped"), out)
        let failed = Set(try junitRows(junit).filter(\.failed).map(\.name))
        XCTAssertEqual(failed, ["v2-idx-content-flipped", "v2-cnt-bind-mount-traversal", "v2-rfs-deleted-dotdot", "v2-xattrs"])
        let python = try junitByPython(junit)
        XCTAssertEqual(Set(python.filter { $0.hasSuffix("FAIL") }),
                       Set(failed.map { "decoder \($0) FAIL" }))
        XCTAssertEqual(python.count, 6)
    }

    /// One vector through a hand-made decoder command, in process (a shell comment names the placeholders a
    /// command does not use).
    func outcome(_ command: String, _ id: String, timeout: Double = 30) throws -> RunOutcome {
        var options = RunOptions()
        options.vectors = vectors
        options.decoder = try CommandTemplate(command + " # {archive} {dir}", requiring: ["archive", "dir"])
        options.filters = [id]
        options.limits.timeout = timeout
        let report = try VectorRunner(options: options).run()
        XCTAssertEqual(report.outcomes.count, 1)
        return try XCTUnwrap(report.outcomes.first)
    }

    func testWritesOutsideTheDirectoryAreCaught() throws {
        let unpack = "mkdir -p {dir} && tar -xf {archive} -C {dir}"
        let beside = try outcome(unpack + " && touch {dir}/../escaped", "v2-worked-example")
        XCTAssertFalse(beside.passed)
        XCTAssertTrue(beside.problems.contains { $0.contains("wrote outside {dir}: created") && $0.contains("parent/escaped") },
                      "\(beside.problems)")
        let sentinel = try outcome(unpack + " && echo x >> {dir}/../.sentinel", "v2-worked-example")
        XCTAssertTrue(sentinel.problems.contains { $0.contains("changed") && $0.contains(".sentinel") }, "\(sentinel.problems)")
        let archive = try outcome(": > {archive}; exit 1", "v2-idx-content-flipped")
        XCTAssertTrue(archive.problems.contains { $0.contains("changed") && $0.contains("v2-idx-content-flipped.tar") },
                      "\(archive.problems)")
        // Refusing, but leaving what was unpacked so far.
        let partial = try outcome(unpack + " && exit 3", "v2-idx-content-flipped")
        XCTAssertTrue(partial.problems.contains { $0.hasPrefix("CKA-GEN-006: refused, but left a partial {dir}") },
                      "\(partial.problems)")
        // Refusing cleanly passes.
        let clean = try outcome("mkdir {dir} && rmdir {dir} && exit 1", "v2-idx-content-flipped")
        XCTAssertTrue(clean.passed, "\(clean.problems)")
        XCTAssertEqual(clean.summary, "refused (exit status 1)")
    }

    func testCrashesHangsAndMissingProgramsFailWhateverTheExpectedResult() throws {
        // An invalid vector "refused" by dying of a signal is a crash (CKA-VEC-008).
        let crash = try outcome("kill -SEGV $$", "v2-idx-content-flipped")
        XCTAssertFalse(crash.passed)
        XCTAssertTrue(crash.problems.contains { $0.contains("crashed") && $0.contains("SIGSEGV") }, "\(crash.problems)")
        let abort = try outcome("sh -c 'kill -ABRT $$'", "v2-idx-content-flipped")
        XCTAssertTrue(abort.problems.contains { $0.contains("crashed") && $0.contains("SIGABRT") }, "\(abort.problems)")
        let started = Date()
        let hang = try outcome("sleep 30", "v2-idx-content-flipped", timeout: 1)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
        XCTAssertTrue(hang.problems.contains { $0.contains("hangs") }, "\(hang.problems)")
        let missing = try outcome("/nonexistent/decoder {archive} {dir}", "v2-idx-content-flipped")
        XCTAssertTrue(missing.problems.contains { $0.contains("could not be run") }, "\(missing.problems)")
        // A file larger than the output budget is cut by SIGXFSZ.
        var options = RunOptions()
        options.vectors = vectors
        options.decoder = try CommandTemplate("mkdir {dir} && head -c 3000000 /dev/zero > {dir}/big # {archive}",
                                              requiring: ["archive", "dir"])
        options.filters = ["v2-worked-example"]
        options.limits.fileMiB = 1
        options.outputLimitMiB = 1
        let big = try XCTUnwrap(try VectorRunner(options: options).run().outcomes.first)
        XCTAssertTrue(big.problems.contains { $0.contains("crashed") && $0.contains("SIGXFSZ") }, "\(big.problems)")
    }

    func testOurEncoderRoundTripsAndPlainTarDoesNot() throws {
        let filters = ["--filter", "v2-worked-example", "--filter", "v2-unknown-section", "--filter", "v2-zstd-framed-every-section",
                       "--filter", "v2-hard-links"]
        let good = try TestTools.spawn([tool, "run", "--vectors", vectors,
                                        "--encoder", "\(ckpt) create --quiet --deterministic {dir} {archive}"]
                                       + filters + limits)
        XCTAssertEqual(good.status, 0, good.stdoutText + good.stderrText)
        XCTAssertTrue(good.stdoutText.contains("ok   v2-unknown-section [encoder] (valid): valid, unpacks to the same tree"),
                      good.stdoutText)
        XCTAssertTrue(good.stdoutText.contains("encoder: 4 vectors: 4 passed"), good.stdoutText)
        let bad = try TestTools.spawn([tool, "run", "--vectors", vectors, "--encoder", "tar -cf {archive} -C {dir} ."] + filters)
        XCTAssertEqual(bad.status, 1, bad.stdoutText + bad.stderrText)
        XCTAssertTrue(bad.stdoutText.contains("CKA-GEN-005: the validator finds the encoder's archive invalid"), bad.stdoutText)
        XCTAssertTrue(bad.stdoutText.contains("encoder: 4 vectors: 0 passed, 4 failed"), bad.stdoutText)
    }

    func testUsage() throws {
        XCTAssertEqual(try TestTools.spawn([tool, "run", "--vectors", vectors]).status, 2)
        XCTAssertEqual(try TestTools.spawn([tool, "run", "--vectors", vectors, "--decoder", "x {archive}"]).status, 2)
        XCTAssertEqual(try TestTools.spawn([tool, "run", "--vectors", vectors, "--decoder", "x {archive} {dir}",
                                            "--filter", "no-such-vector"]).status, 2)
        XCTAssertEqual(try TestTools.spawn([tool, "run", "--vectors", "/nonexistent", "--decoder", "x {archive} {dir}"]).status, 2)
        // Without --pin the pinned cases are skipped, which fails nothing.
        let r = try TestTools.spawn([tool, "run", "--vectors", vectors, "--decoder", "\(ckpt) extract --quiet {archive} {dir}",
                                     "--filter", "v2-*pin*"] + limits)
        XCTAssertEqual(r.status, 0, r.stdoutText)
        XCTAssertTrue(r.stdoutText.contains("2 vectors: 0 passed, 0 failed, 2 skipped"), r.stdoutText)
    }

    func testFilterPatterns() {
        var o = RunOptions()
        o.filters = ["v2-idx-*-digest", "worked"]
        XCTAssertTrue(o.selects("v2-idx-header-digest"))
        XCTAssertTrue(o.selects("v2-worked-example"))
        XCTAssertFalse(o.selects("v2-idx-header-end"))
        XCTAssertEqual(ShellQuoting.quote("a'b c"), "'a'\\''b c'")
    }
}
