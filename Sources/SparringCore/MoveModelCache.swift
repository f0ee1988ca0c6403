import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Trained move models kept on disk, so a command or a daemon that starts with the same moves
/// reads them in a fraction of a second instead of training them again (0.4–0.7 s in a release
/// build, about six seconds in a debug one).
///
/// A model is named by everything its training reads (each move's examples and phrases, the
/// no-move lines, the word groups, the settings) and by the executable that trained it, so a
/// rebuilt program never reads a model its older self made. A file that is missing, damaged
/// or unreadable is only a miss; a folder that cannot be written only means no cache.
public enum MoveModelCache {
    /// Where the models go; nil (with `SPARRING_NO_MODEL_CACHE` set) keeps nothing on disk.
    static let folder: String? = ProcessInfo.processInfo.environment["SPARRING_NO_MODEL_CACHE"] == nil
        ? CacheFolder.path("moves") : nil
    /// How many models the folder keeps; the least recently written go first.
    static let kept = 48
    static let format = "sparring-move-model 1"

    /// The name of the model trained on `examples` for `moves`: every word and label the training
    /// reads, the word groups, the settings and the program doing it.
    static func key(moves: [String], examples: [MoveModel.Example], groups: [String: [String]],
                    settings: MoveRecognizer.TrainingSettings) -> String {
        var text = format + "\n" + executableIdentity + "\n"
        func add(_ part: String) { text += "\(part.utf8.count):\(part)" }
        add("\(settings.epochs) \(settings.positiveWeight) \(settings.learningRate) \(settings.l2) \(settings.charWeight)")
        moves.forEach(add)
        text += "|examples"
        for example in examples {
            add(example.text.words.joined(separator: " "))
            add(example.text.sentenceStarts.map(String.init).joined(separator: " "))
            add(example.labels.sorted().joined(separator: " "))
        }
        text += "|groups"
        for (name, words) in groups.sorted(by: { $0.key < $1.key }) { add(name); words.sorted().forEach(add); text += ";" }
        return String(format: "%016llx", CacheFolder.stableHash(text)) + "-" + String(format: "%08x", text.utf8.count)
    }

    /// The running program's path, size and time of change.
    static let executableIdentity: String = {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
        let changed = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(path) \(size) \(changed)"
    }()

    /// How many models this process has read from the folder rather than trained.
    public static var modelsRead: Int { reads.withLock { $0 } }
    private static let reads = Mutex(0)

    static func load(_ key: String, in folder: String? = folder) -> MoveModel? {
        guard let folder, let data = try? SafeFile.read(folder + "/" + key + ".model", limit: 256 << 20),
              let model = MoveModel(encoded: data) else { return nil }
        reads.withLock { $0 += 1 }
        return model
    }

    /// Writes `model` under `key`; false when the folder cannot take it (then there is simply no cache).
    @discardableResult
    static func store(_ model: MoveModel, _ key: String, in folder: String? = folder) -> Bool {
        guard let folder,
              (try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])) != nil else { return false }
        let temporary = folder + "/.\(key).\(getpid()).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: model.encoded(), attributes: [.posixPermissions: 0o600]) else { return false }
        // A rename is atomic: another process reading the model sees the old file or the whole new one.
        guard rename(temporary, folder + "/" + key + ".model") == 0 else { unlink(temporary); return false }
        prune(folder)
        return true
    }

    /// Keeps the `kept` newest models.
    static func prune(_ folder: String) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".model") }
        guard names.count > kept else { return }
        let dated = names.map { name -> (String, Date) in
            let date = (try? FileManager.default.attributesOfItem(atPath: folder + "/" + name))?[.modificationDate] as? Date
            return (name, date ?? .distantPast)
        }
        for (name, _) in dated.sorted(by: { $0.1 > $1.1 }).dropFirst(kept) { unlink(folder + "/" + name) }
    }
}

extension MoveModel {
    /// The model as bytes: a JSON head (moves, word groups, sizes), then the feature ids, the bias
    /// and the weights in the machine's byte order (the cache never leaves the machine).
    func encoded() -> Data {
        let entries = vocabulary.sorted { $0.value < $1.value }
        let head = EncodedHead(moves: moves, charWeight: charWeight, groups: groups, features: entries.count, classes: bias.count)
        var data = Data(MoveModelCache.format.utf8)
        data.append(0x0A)
        let json = (try? JSONEncoder().encode(head)) ?? Data()
        var length = UInt32(json.count)
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(json)
        entries.map(\.key).withUnsafeBytes { data.append(contentsOf: $0) }
        bias.withUnsafeBytes { data.append(contentsOf: $0) }
        weights.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// A model from `encoded()`'s bytes; nil unless every part is there, of the size its head says.
    convenience init?(encoded data: Data) {
        let magic = Data(MoveModelCache.format.utf8) + [0x0A]
        guard data.count > magic.count + 4, data.prefix(magic.count) == magic else { return nil }
        var offset = data.startIndex + magic.count
        func take(_ count: Int) -> Data? {
            guard count >= 0, data.endIndex - offset >= count else { return nil }
            defer { offset += count }
            return data[offset..<(offset + count)]
        }
        func table<T: BitwiseCopyable>(_ count: Int, of _: T.Type, zero: T) -> [T]? {
            guard let bytes = take(count * MemoryLayout<T>.stride) else { return nil }
            var result = [T](repeating: zero, count: count)
            result.withUnsafeMutableBytes { target in bytes.withUnsafeBytes { target.copyMemory(from: $0) } }
            return result
        }
        guard let length = table(1, of: UInt32.self, zero: 0)?.first,
              let json = take(Int(length)), let head = try? JSONDecoder().decode(EncodedHead.self, from: json),
              head.classes == head.moves.count + 1, (0..<(1 << 24)).contains(head.features),
              let ids = table(head.features, of: UInt64.self, zero: 0), let bias = table(head.classes, of: Float.self, zero: 0),
              let weights = table(head.features * head.classes, of: Float.self, zero: 0), offset == data.endIndex else { return nil }
        var vocabulary: [UInt64: Int32] = [:]
        vocabulary.reserveCapacity(ids.count)
        for (row, id) in ids.enumerated() { vocabulary[id] = Int32(row) }
        guard vocabulary.count == ids.count else { return nil }
        self.init(moves: head.moves, vocabulary: vocabulary, weights: weights, bias: bias, charWeight: head.charWeight, groups: head.groups)
    }

    struct EncodedHead: Codable {
        var moves: [String]
        var charWeight: Float
        var groups: [String: [String]]
        var features: Int
        var classes: Int
    }
}
