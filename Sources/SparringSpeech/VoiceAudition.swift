import CEspeakNG
import Foundation
import SparringCore
import Synchronization

/// Hears a caller's voice speak before any call depends on it.
///
/// A voice name eSpeak NG does not know, or a variant and prosody that come out
/// silent, would otherwise surface as a caller who never says a word. Each
/// voice speaks a short phrase at every mood, with exactly the name, variant
/// and prosody a call would use, and must produce audible sound.
public enum VoiceAudition {
    static let phrase = "Hello? Can you hear me?"
    /// Audible sound a short phrase must at least produce: a tenth of a second.
    static let minimumAudible = 0.1

    /// Results by voice, so a reload does not speak again what was already heard.
    private static let heard = Mutex<[String: Problem?]>([:])

    /// Nil when the voice speaks at every mood, else why not, at the line of its file to fix.
    /// Runs eSpeak NG: call it on the thread that owns `synthesizer`.
    public static func problem(_ voice: VoiceProfile, using synthesizer: Synthesizer) -> Problem? {
        let key = "\(voice.espeakName)|\(MoodBand.allCases.map { "\(voice.prosody(for: $0))" }.joined())"
        if let known = heard.withLock({ $0[key] }) { return known }
        let found = audition(voice, synthesizer).map { field, message in
            Problem(file: voice.file, line: field == "variant" ? voice.variantLine : voice.line, field: field, message: message)
        }
        heard.withLock { $0[key] = .some(found) }
        return found
    }

    /// An audition with a synthesizer of its own, for a process that speaks nothing else meanwhile
    /// (validation, listing, checking a configuration); eSpeak NG failing to start fails every voice.
    public static func standalone() -> (VoiceProfile) -> Problem? {
        do throws(SpeechError) {
            let synthesizer = try Synthesizer()
            return { problem($0, using: synthesizer) }
        } catch {
            let why = error.description
            return { Problem(file: $0.file, line: $0.line, field: "espeak_voice", message: why) }
        }
    }

    /// The field at fault and why, or nil.
    private static func audition(_ voice: VoiceProfile, _ synthesizer: Synthesizer) -> (field: String, message: String)? {
        do throws(SpeechError) {
            try synthesizer.check(voice: voice.espeakName)
        } catch {
            return ("espeak_voice", "eSpeak NG has no voice '\(voice.espeakVoice)'\(suggestion())")
        }
        // eSpeak NG takes any voice file's name, and ignores a variant it does not have.
        if let chosen = espeak_GetCurrentVoice()?.pointee {
            let identifier = chosen.identifier.map { String(cString: $0) } ?? ""
            let languages = languageCodes(chosen.languages)
            if !languages.contains(where: { $0.hasPrefix(language) }) {
                let name = chosen.name.map { String(cString: $0) } ?? identifier
                return ("espeak_voice", "'\(voice.espeakVoice)' is eSpeak NG's \(name) voice, and the caller's lines are English\(suggestion())")
            }
            if let variant = voice.variant, !identifier.hasSuffix("+\(variant)") {
                return ("variant", "eSpeak NG has no variant '\(variant)' (such as m1-m7, f1-f5, croak, klatt, whisper; see espeak-ng-data/voices/!v)")
            }
        }
        for band in MoodBand.allCases {
            var audible = 0
            do throws(SpeechError) {
                try synthesizer.speak(phrase, voice: voice.espeakName, prosody: voice.prosody(for: band)) { samples in
                    for sample in samples where Audibility.isAudible(sample) { audible += 1 }
                }
            } catch {
                return ("espeak_voice", "'\(voice.espeakName)' fails to speak when \(band.rawValue): \(error.description)")
            }
            if Double(audible) < minimumAudible * Double(synthesizer.sampleRate) {
                return ("espeak_voice", "'\(voice.espeakName)' is silent when \(band.rawValue) (volume \(voice.prosody(for: band).volume))")
            }
        }
        return nil
    }

    /// The language every caller line is written in.
    static let language = "en"

    /// `languages` is pairs of a priority byte and a NUL-terminated code, ended by a zero priority.
    static func languageCodes(_ list: UnsafePointer<CChar>?) -> [String] {
        guard var cursor = list else { return [] }
        var codes: [String] = []
        while cursor.pointee != 0 {
            let code = String(cString: cursor + 1)
            codes.append(code.lowercased())
            cursor += 1 + code.utf8.count + 1
        }
        return codes
    }

    /// The names of the installed English voices, as `espeak_voice` takes them.
    static func suggestion() -> String {
        guard let list = espeak_ListVoices(nil) else { return "" }
        var names: [String] = []
        var index = 0
        while let voice = list[index] {
            index += 1
            guard languageCodes(voice.pointee.languages).contains(where: { $0.hasPrefix(language) }),
                  let identifier = voice.pointee.identifier else { continue }
            names.append(String(String(cString: identifier).split(separator: "/").last ?? ""))
        }
        guard !names.isEmpty else { return " (no English voice is installed)" }
        return " (English voices installed: \(names.sorted().joined(separator: ", ")))"
    }
}
