import Conformance
import Foundation
import TestSupport
import VectorCorpus
import XCTest

/// CKA-VEC-003: every V requirement against the vectors that break and meet it, from the validator's findings;
/// every ID the validator can report defined by the specification; Spec/coverage.md current.
final class TraceabilityTests: XCTestCase {
    /// The completed areas are the v2 format (V2, IDX, FRM, ALN) and the v1 profiles (V1, POD, CRIO, CTRD). In those,
    /// only these requirements lack a breaking case, for a reason stated here (the test fails when one becomes
    /// covered, so the list stays true):
    /// - CKA-IDX-014 defines the span digest; a wrong span digest is reported as CKA-IDX-002 or CKA-IDX-004.
    /// - CKA-FRM-001 needs the compressed members' boundaries, which the validator does not compute yet (the
    ///   conformance tests inject them); a vector joins when it does.
    /// - CKA-V1-019 is the profile detection itself: every archive has a profile by it, so no archive breaks it (the
    ///   validator names it only as a rule it ran; the writer reports it for a directory it cannot write as asked).
    /// - CKA-POD-002 and CKA-CTRD-001 hold by definition under detection: an archive is Podman only when
    ///   `io.container.manager` is `libpod`, and containerd only when it has `status.dump`. Only a profile forced
    ///   with `--profile` breaks them, and the manifest has no way to force one (`v1-generic-containerd-without-status-dump`
    ///   and `v1-ctrd-no-status-dump` show what detection makes of containerd's layout without `status.dump`).
    static let knownGaps: Set<String> = ["CKA-IDX-014", "CKA-FRM-001", "CKA-V1-019", "CKA-POD-002", "CKA-CTRD-001"]

    func traceability() throws -> Traceability {
        let (corpus, report) = try SharedVerification.result()
        let findings = Dictionary(uniqueKeysWithValues: report.outcomes.map { ($0.id, $0.findings) })
        return Traceability(manifest: corpus.manifest, findings: findings,
                            ruleFiles: Traceability.ruleFiles(base: TestTools.repositoryRoot.path))
    }

    func testCompletedAreasAreFullyCovered() throws {
        let t = try traceability()
        print("uncovered V requirements by area (complete: \(VectorRegistry.completedAreas.sorted())):")
        for (area, ids) in t.uncoveredByArea.sorted(by: { $0.key < $1.key }) {
            print("  \(area) (\(ids.count)): \(ids.joined(separator: ", "))")
        }
        let gaps = Set(t.uncovered.filter { VectorRegistry.completedAreas.contains($0.area) }.map(\.requirement.id))
        XCTAssertEqual(gaps, Self.knownGaps, "uncovered in the completed areas")
        for row in t.rows where VectorRegistry.completedAreas.contains(row.area) {
            XCTAssertFalse(row.valid.isEmpty, "\(row.requirement.id) has no valid vector")
            if row.requirement.severity == .warning {
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
        // archive, Podman's names in CRI-O.
        let v1 = t.rows.filter { ["V1", "POD", "CRIO", "CTRD"].contains($0.area) && !$0.breaking.isEmpty }
        XCTAssertEqual(Set(v1.filter { $0.isolated.isEmpty }.map(\.requirement.id)),
                       ["CKA-POD-006", "CKA-CRIO-002", "CKA-CRIO-005"])
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
