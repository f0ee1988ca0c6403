import Foundation
import Testing
@testable import SparringCore

@Suite("Trained move models on disk")
struct ModelCacheTests {
    static func library() -> MoveLibrary { Shipped.catalog.library }

    /// The shared moves' training examples, as the recognizer builds them.
    static func trained() -> (MoveModel, String) {
        let moves = library().all.filter { $0.file == library().all.first?.file }
        var examples: [MoveModel.Example] = []
        for move in moves { for line in MoveRecognizer.teaching(move) { examples.append(.init(text: MoveText(line), labels: [move.id])) } }
        for line in library().noMove { examples.append(.init(text: MoveText(line), labels: [])) }
        let groups = MoveFeatures.index(library().wordGroups)
        let settings = MoveRecognizer.TrainingSettings(epochs: 2)
        let ids = moves.map(\.id)
        return (MoveModel.train(moves: ids, examples: examples, groups: groups, settings: settings),
                MoveModelCache.key(moves: ids, examples: examples, groups: groups, settings: settings))
    }

    static func folder() -> String { NSTemporaryDirectory() + "sparring-models-" + UUID().uuidString }

    @Test("a model read back from disk is the model written: same tables, same scores")
    func roundTrip() throws {
        let (model, key) = Self.trained()
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(MoveModelCache.load(key, in: folder) == nil)
        #expect(MoveModelCache.store(model, key, in: folder))
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/" + key + ".model")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let read = try #require(MoveModelCache.load(key, in: folder))
        #expect(read.moves == model.moves && read.vocabulary == model.vocabulary && read.weights == model.weights
                && read.bias == model.bias && read.charWeight == model.charWeight && read.groups == model.groups)
        for line in ["I can hear how angry you are", "We never said it was your fault", "so what I can do is book an engineer"] {
            let text = MoveText(line)
            #expect(read.contributions(text).own == model.contributions(text).own)
        }
        // Nothing is left behind but the model.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [key + ".model"])
    }

    @Test("the name covers what training reads: another example, setting or group is another model")
    func keys() {
        let example = MoveModel.Example(text: MoveText("sorry about that"), labels: ["apology"])
        let base = MoveModelCache.key(moves: ["apology"], examples: [example], groups: [:], settings: .init())
        #expect(base == MoveModelCache.key(moves: ["apology"], examples: [example], groups: [:], settings: .init()))
        var other = example
        other.labels = []
        var settings = MoveRecognizer.TrainingSettings()
        settings.epochs += 1
        let variants = [
            MoveModelCache.key(moves: ["apology"], examples: [example, example], groups: [:], settings: .init()),
            MoveModelCache.key(moves: ["apology"], examples: [other], groups: [:], settings: .init()),
            MoveModelCache.key(moves: ["apology", "greeting"], examples: [example], groups: [:], settings: .init()),
            MoveModelCache.key(moves: ["apology"], examples: [example], groups: ["sorry": ["regret"]], settings: .init()),
            MoveModelCache.key(moves: ["apology"], examples: [example], groups: [:], settings: settings),
        ]
        #expect(Set(variants + [base]).count == variants.count + 1)
    }

    @Test("a damaged, truncated or foreign file is a miss, never a model")
    func damaged() throws {
        let (model, key) = Self.trained()
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let good = model.encoded()
        let path = folder + "/" + key + ".model"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var flipped = good
        flipped[3] ^= 0xFF
        for bad in [Data(), good.prefix(good.count - 1), good + [0], flipped, Data("not a model".utf8), good.prefix(40)] {
            try bad.write(to: URL(fileURLWithPath: path))
            #expect(MoveModelCache.load(key, in: folder) == nil)
        }
        // A FIFO in the model's place is refused at once, not waited on.
        unlink(path)
        #expect(mkfifo(path, 0o600) == 0)
        #expect(MoveModelCache.load(key, in: folder) == nil)
    }

    @Test("a folder that cannot be written means no cache, not a failure")
    func unwritable() {
        let (model, key) = Self.trained()
        #expect(MoveModelCache.store(model, key, in: "/proc/sparring-cannot-be-here") == false)
        #expect(MoveModelCache.load(key, in: "/proc/sparring-cannot-be-here") == nil)
    }

    @Test("the folder keeps the newest models only")
    func pruned() throws {
        let (model, key) = Self.trained()
        let folder = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for index in 0..<(MoveModelCache.kept + 3) { MoveModelCache.store(model, key + "-\(index)", in: folder) }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(names.count == MoveModelCache.kept)
        #expect(names.contains(key + "-\(MoveModelCache.kept + 2).model"))
    }
}
