import Conformance
import Foundation
import TestSupport
import VectorCorpus
import XCTest

/// CKA-VEC-003: every V requirement against the vectors that break and meet it, from the validator's findings;
/// every ID the validator can report defined by the specification; Spec/coverage.md current.
final class TraceabilityTests: XCTestCase {
    /// The completed areas are the v2 format (V2, IDX, FRM, ALN), the v1 profiles (V1, POD, CRIO, CTRD), the tar
    /// layer, compression and security (TAR, CMP, SEC). Every V requirement in them has a breaking and a valid
    /// case. (Requirements that no archive can break are not V: the span digest's definition CKA-IDX-014, checked
    /// through CKA-IDX-002 and CKA-IDX-004; profile detection CKA-V1-019; the permissive CKA-SEC-024. Rules that
    /// hold by definition under detection, CKA-POD-002 and CKA-CTRD-001, are broken by cases that force the
    /// profile with `forceProfile`.)
    static let knownGaps: Set<String> = []

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
        // Every v1 requirement that an archive can break has a case breaking only it, except the rules whose
        // breach is itself a contradicting profile signal (CKA-V1-020): dump.log in Podman, a compressed CRI-O
        // archive, Podman's names in CRI-O, `deleted.files` in containerd (a Podman and CRI-O name), and a Podman
        // archive (profile forced) without io.container.manager = libpod, the annotation being a signal itself.
        let v1 = t.rows.filter { ["V1", "POD", "CRIO", "CTRD"].contains($0.area) && !$0.breaking.isEmpty }
        XCTAssertEqual(Set(v1.filter { $0.isolated.isEmpty }.map(\.requirement.id)),
                       ["CKA-POD-002", "CKA-POD-006", "CKA-CRIO-002", "CKA-CRIO-005", "CKA-CTRD-003"])
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
