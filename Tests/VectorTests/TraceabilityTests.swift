import Conformance
import Foundation
import TestSupport
import VectorCorpus
import XCTest

/// CKA-VEC-003: every V requirement against the vectors that break and meet it, from the validator's findings;
/// every ID the validator can report defined by the specification; Spec/coverage.md current.
final class TraceabilityTests: XCTestCase {
    /// The completed areas are the v2 format (V2, IDX, FRM, ALN), the v1 profiles (V1, POD, CRIO, CTRD), the tar
    /// layer, compression and security (TAR, CMP, SEC). In those, only these requirements lack a breaking case, for a
    /// reason stated here (the test fails when one becomes covered, so the list stays true):
    /// - CKA-IDX-014 defines the span digest; a wrong span digest is reported as CKA-IDX-002 or CKA-IDX-004.
    /// - CKA-V1-019 is the profile detection itself: every archive has a profile by it, so no archive breaks it (the
    ///   validator names it only as a rule it ran; the writer reports it for a directory it cannot write as asked).
    /// - CKA-POD-002 and CKA-CTRD-001 hold by definition under detection: an archive is Podman only when
    ///   `io.container.manager` is `libpod`, and containerd only when it has `status.dump`. Only a profile forced
    ///   with `--profile` breaks them, and the manifest has no way to force one (`v1-generic-containerd-without-status-dump`
    ///   and `v1-ctrd-no-status-dump` show what detection makes of containerd's layout without `status.dump`).
    /// - CKA-CMP-004 (v1 in bzip2 or xz, a warning) and CKA-CMP-005 (v2 in bzip2 or xz) need the validator to look
    ///   inside a bzip2 or xz stream to tell v1 from v2; the Compression module decodes only gzip and zstd, so the
    ///   validator reports CKA-CMP-001 for both (v2-cmp-bzip2, v2-cmp-xz), and `ckpt extract` could not extract an
    ///   acceptable v1 bzip2 vector. They join with bzip2 and xz decoders (libbz2, liblzma).
    /// - CKA-SEC-024 is permissive: names that differ only by Unicode normalisation or case are distinct and
    ///   allowed, so no archive breaks it; its other half, duplicates after normalisation, is CKA-TAR-037
    ///   (v1-hostile-duplicate-dot-slash, v2-hostile-duplicate).
    static let knownGaps: Set<String> = ["CKA-IDX-014", "CKA-V1-019", "CKA-POD-002", "CKA-CTRD-001",
                                         "CKA-CMP-004", "CKA-CMP-005", "CKA-SEC-024"]

    func traceability() throws -> Traceability {
        let (corpus, report) = try SharedVerification.result()
        let findings = Dictionary(uniqueKeysWithValues: report.outcomes.map { ($0.id, $0.findings) })
        return Traceability(manifest: corpus.manifest, findings: findings,
                            ruleFiles: Traceability.ruleFiles(base: TestTools.repositoryRoot.path))
    }

    func testCompletedAreasAreFullyCovered() throws {
        let t = try traceability()
        print("uncovered V requirements by area (completed: \(VectorRegistry.completedAreas.sorted())):")
        for (area, ids) in t.uncoveredByArea.sorted(by: { $0.key < $1.key }) {
            print("  \(area) (\(ids.count)): \(ids.joined(separator: ", "))")
        }
        let gaps = Set(t.uncovered.filter { VectorRegistry.completedAreas.contains($0.area) }.map(\.requirement.id))
        XCTAssertEqual(gaps, Self.knownGaps, "uncovered in the completed areas")
        for row in t.rows where VectorRegistry.completedAreas.contains(row.area) {
            XCTAssertFalse(row.valid.isEmpty, "\(row.requirement.id) has no valid vector")
            if row.requirement.severity == .warning, !Self.knownGaps.contains(row.requirement.id) {
                XCTAssertFalse(row.breaking.isEmpty, "\(row.requirement.id) has no acceptable vector")
            }
            if !row.rules.isEmpty || !row.breaking.isEmpty {
                XCTAssertFalse(row.rules.isEmpty, "\(row.requirement.id): no rule file reports it")
            }
        }
        // Most v2 requirements have a case breaking only them.
        let v2 = t.rows.filter { $0.area == "V2" }
        XCTAssertGreaterThan(v2.filter { !$0.isolated.isEmpty }.count, 35)
        // Every v1 requirement that an archive can break has a case breaking only it, except the SHOULD rules whose
        // breach is itself a contradicting profile signal (CKA-V1-020): dump.log in Podman, a compressed CRI-O
        // archive, Podman's names in CRI-O, and `deleted.files` in containerd (a Podman and CRI-O name).
        let v1 = t.rows.filter { ["V1", "POD", "CRIO", "CTRD"].contains($0.area) && !$0.breaking.isEmpty }
        XCTAssertEqual(Set(v1.filter { $0.isolated.isEmpty }.map(\.requirement.id)),
                       ["CKA-POD-006", "CKA-CRIO-002", "CKA-CRIO-005", "CKA-CTRD-003"])
        for row in v1 where row.isolated.isEmpty {
            XCTAssertTrue(row.breaking.allSatisfy { id in
                Set(t.rows.filter { $0.breaking.contains(id) }.map(\.requirement.id)) == [row.requirement.id, "CKA-V1-020"]
            }, "\(row.requirement.id): \(row.breaking)")
        }
    }

    func testFindingsAgreeWithTheManifest() throws {
        let (corpus, _) = try SharedVerification.result()
        let fromFindings = try traceability()
        let fromManifest = Traceability(manifest: corpus.manifest)
        XCTAssertEqual(fromFindings.rows.map(\.breaking), fromManifest.rows.map(\.breaking))
        XCTAssertEqual(fromFindings.rows.map(\.isolated), fromManifest.rows.map(\.isolated))
    }

    func testEveryReportableIDIsDefined() {
        let ids = Traceability.emittableIDs(base: TestTools.repositoryRoot.path)
        XCTAssertGreaterThan(ids.count, 100)
        let undefined = ids.filter { RequirementCatalog.requirement($0) == nil }
        XCTAssertEqual(undefined, [], "IDs in the validator's or decoder's sources that the specification does not define")
        let manifestIDs = Set((try? SharedVerification.result().corpus.manifest.cases.flatMap(\.requirements)) ?? [])
        XCTAssertEqual(manifestIDs.filter { RequirementCatalog.requirement($0) == nil }, [])
    }

    func testCoverageDocumentIsCurrent() throws {
        let (corpus, _) = try SharedVerification.result()
        let text = CoverageReport.render(Traceability(manifest: corpus.manifest,
                                                      ruleFiles: Traceability.ruleFiles(base: TestTools.repositoryRoot.path)))
        let committed = try String(contentsOf: TestTools.repositoryRoot.appendingPathComponent("Spec/coverage.md"), encoding: .utf8)
        XCTAssertTrue(committed == text, "Spec/coverage.md is stale: run ckpt-vectors coverage --out Spec/coverage.md")
        XCTAssertTrue(text.contains("| CKA-V2-001 |"))
    }
}
