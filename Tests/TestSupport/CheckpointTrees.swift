import CSysShims
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Unpacked checkpoint directories for tests, built on disk: the input of `V2Encoder`, `ckpt create` and the
/// round trips of the validator, extractor and converter.
public enum CheckpointTrees {
    /// A directory with every section kind and every entry type the rootfs allows (devices only as root), an
    /// extended attribute where the file system takes one, and a symbolic link among the artifacts.
    public static func makeRich(_ root: URL, devices: Bool = getuid() == 0) throws {
        let fm = FileManager.default
        let tree = FixtureTree(root)
        var rng = SystemRandomNumberGenerator()
        let random = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try tree.text("metadata/config.dump", #"{"id":"abc","name":"rich","rootfsImageName":"quay.io/x/y:1","runtime":"crun"}"#)
        try tree.text("metadata/spec.dump", #"{"ociVersion":"1.1.0","annotations":{"io.container.manager":"libpod"}}"#)
        try tree.text("metadata/network.status", "{}")
        try tree.file("checkpoint/inventory.img", [0x16, 0x31, 0x31, 0x58] + Array(repeating: 1, count: 40))
        try tree.file("checkpoint/pages-1.img", Array(random[0..<70_000]))
        try tree.text("rootfs/deleted.files", "[\n  \"/etc/motd\",\n  \"/var/cache\"\n]")
        try tree.text("rootfs/implied.dirs", "[\n  \"/usr\",\n  \"/usr/lib\"\n]")
        try tree.dir("rootfs/tree/usr/lib")
        try tree.dir("rootfs/tree/etc", 0o755)
        try tree.text("rootfs/tree/etc/app.conf", "x=1\n", 0o644)
        try tree.file("rootfs/tree/usr/lib/big.bin", Array(random[0..<150_000]), 0o755)
        try tree.text("rootfs/tree/usr/lib/äöü-日本語.txt", "utf8\n", 0o644)
        try tree.text("rootfs/tree/usr/lib/" + String(repeating: "long", count: 40), "long\n", 0o644)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("rootfs/tree/etc/localtime").path,
                                  withDestinationPath: "/usr/share/zoneinfo/UTC")
        try fm.linkItem(at: root.appendingPathComponent("rootfs/tree/etc/app.conf"),
                        to: root.appendingPathComponent("rootfs/tree/etc/app.conf.hard"))
        XCTAssertEqual(mkfifo(root.appendingPathComponent("rootfs/tree/etc/fifo").path, 0o644), 0)
        if devices {
            XCTAssertEqual(mknod(root.appendingPathComponent("rootfs/tree/etc/null").path, S_IFCHR | 0o666, makedev(1, 3)), 0)
        }
        try tree.text("rootfs/tree/etc/setuid-tool", "#!/bin/sh\n", 0o4755)
        _ = setxattr(root.appendingPathComponent("rootfs/tree/etc/app.conf").path, "user.checkpoint", "yes", 3, 0)
        try tree.dir("devshm", 0o1777)
        try tree.file("devshm/segment", Array(random[0..<5000]), 0o644)
        try tree.dir("volumes/data")
        try tree.text("volumes/data/db.sqlite", "sqlite", 0o644)
        try tree.dir("volumes/logs-vol/sub")
        try tree.text("volumes/logs-vol/sub/x.log", "log\n", 0o644)
        try tree.text("logs/ctr.log", "hello\n")
        try tree.text("artifacts/note.txt", "artifact\n", 0o644)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("artifacts/note-link").path,
                                  withDestinationPath: "note.txt")
        try tree.text("ext/vendor.example/data.json", "{}", 0o644)
    }

    private static func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
        dev_t((UInt64(major & 0xfff) << 8) | UInt64(minor & 0xff) | (UInt64(minor & ~0xff) << 12)
              | (UInt64(major & ~0xfff) << 32))
    }

    /// The tree manifest (Tests/TarFormatTests/Fixtures/treemanifest.py --owner) of a directory, without the
    /// files `ckpt` regenerates (`cka-header.json`, `cka-index.json`).
    public static func manifest(_ dir: URL) throws -> [[String: AnyHashable]] {
        let script = TestTools.repositoryRoot.appendingPathComponent("Tests/TarFormatTests/Fixtures/treemanifest.py")
        let r = try TestTools.run(["python3", script.path, "--owner", dir.path])
        XCTAssertEqual(r.status, 0, r.stderrText)
        let tree = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]])
        return tree.filter { !["cka-header.json", "cka-index.json"].contains($0["path"] as? String ?? "") }
            .map { entry in
                // Nested objects (xattrs) become their sorted JSON text so they are compared too.
                entry.filter { $0.key != "mtime" }.mapValues { value -> AnyHashable in
                    if let hashable = value as? AnyHashable, !(value is [String: Any]) { return hashable }
                    let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
                    return String(decoding: data ?? Data(), as: UTF8.self)
                }
            }
    }
}
