import Foundation
import Yams

/// How the caller's voice sounds at one mood: eSpeak NG's rate, pitch, range and volume.
public struct Prosody: Sendable, Equatable, Codable {
    public var rate: Int      // words per minute, 80–450
    public var pitch: Int     // 0–100
    public var range: Int     // 0–100
    public var volume: Int    // 0–200

    public init(rate: Int, pitch: Int, range: Int, volume: Int) {
        self.rate = rate
        self.pitch = pitch
        self.range = range
        self.volume = volume
    }

    public func shifted(by shift: Prosody) -> Prosody {
        Prosody(rate: min(450, max(80, rate + shift.rate)), pitch: min(100, max(0, pitch + shift.pitch)),
                range: min(100, max(0, range + shift.range)), volume: min(200, max(0, volume + shift.volume)))
    }

    public static let none = Prosody(rate: 0, pitch: 0, range: 0, volume: 0)
}

/// A caller's voice (voices/NAME.yaml): the eSpeak NG voice and how it moves with mood.
public struct VoiceProfile: Sendable, Equatable {
    public var id: String
    /// eSpeak NG voice name, such as `en-us` or `en`.
    public var espeakVoice: String
    /// Optional eSpeak NG variant such as `m3` or `f2`, joined as `en-us+m3`.
    public var variant: String?
    public var base: Prosody
    /// Shift from `base` for each mood band; an angry caller speaks faster, louder, higher.
    public var moodShift: [MoodBand: Prosody]
    /// Where the voice was defined: its file and the line of `espeak_voice`, for problems found later.
    public var file = ""
    public var line = 0
    public var variantLine = 0

    public var espeakName: String { variant.map { "\(espeakVoice)+\($0)" } ?? espeakVoice }

    public func prosody(for mood: MoodBand) -> Prosody { base.shifted(by: moodShift[mood] ?? .none) }

    static let fields: Set<String> = ["espeak_voice", "variant", "rate", "pitch", "range", "volume", "moods", "description"]

    /// Reads a voice file; the id is the file name without `.yaml`.
    public static func load(path: String) -> (VoiceProfile?, [Problem]) {
        let document: YAMLDocument
        do { document = try YAMLDocument.load(path: path) } catch { return (nil, [error]) }
        let reader = NodeReader(file: document.file)
        let id = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        guard let fields = reader.fields(document.root, "", allowed: Self.fields) else { return (nil, reader.problems) }
        let espeakVoice = reader.string(fields["espeak_voice"], "espeak_voice", required: true, parent: document.root)
        let base = Prosody(
            rate: Int(reader.number(fields["rate"], "rate", range: 80...450) ?? 170),
            pitch: Int(reader.number(fields["pitch"], "pitch", range: 0...100) ?? 50),
            range: Int(reader.number(fields["range"], "range", range: 0...100) ?? 50),
            volume: Int(reader.number(fields["volume"], "volume", range: 0...200) ?? 100))
        var shifts: [MoodBand: Prosody] = [:]
        for (name, keyNode, value) in reader.mapping(fields["moods"], "moods") ?? [] {
            guard let band = MoodBand(rawValue: name) else {
                reader.report(keyNode, "moods.\(name)", "unknown mood (expected calm, irritated or furious)")
                continue
            }
            guard let shift = reader.fields(value, "moods.\(name)", allowed: ["rate", "pitch", "range", "volume"]) else { continue }
            func delta(_ key: String, _ limit: Double) -> Int {
                Int(reader.number(shift[key], "moods.\(name).\(key)", range: -limit...limit) ?? 0)
            }
            shifts[band] = Prosody(rate: delta("rate", 200), pitch: delta("pitch", 100), range: delta("range", 100), volume: delta("volume", 200))
        }
        guard let espeakVoice else { return (nil, reader.problems) }
        let variant = reader.string(fields["variant"], "variant")
        var voice = VoiceProfile(id: id, espeakVoice: espeakVoice, variant: variant, base: base, moodShift: shifts)
        voice.file = document.file
        voice.line = reader.line(fields["espeak_voice"])
        voice.variantLine = reader.line(fields["variant"])
        return (voice, reader.problems)
    }
}

/// Which set of line variants the caller draws from, decided by anger thresholds.
public enum MoodBand: String, Sendable, Codable, CaseIterable, Comparable {
    case calm, irritated, furious

    public static func < (a: MoodBand, b: MoodBand) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
