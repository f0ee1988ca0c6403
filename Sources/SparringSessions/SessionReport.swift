import Foundation
import SparringCore

/// One self-contained HTML page about a call, for a supervisor to open or mail.
///
/// Everything is inside the file: the recording (both sides mixed to one
/// channel, which halves the size and is how the call sounded), the data as
/// JSON, the style and the script; a Content-Security-Policy forbids any
/// fetch, so it opens the same offline and in a mail client's sandbox. The
/// transcript, score and annotations are plain HTML (readable without
/// script); the script draws the anger/trust plot and the talk timeline and
/// makes every time in the page seek the player.
public enum SessionReport {
    /// What the page's script reads (embedded as JSON).
    struct Payload: Encodable {
        struct MoodPoint: Encodable { var t: Double; var meters: [String: Double]; var mood: String? }
        struct Moment: Encodable { var t: Double; var kind: String; var text: String }
        var id: String
        var duration: Double
        var mood: [MoodPoint]
        var moments: [Moment]
        var activity: SpeechActivity
    }

    /// Both channels mixed, as Ogg Opus; as WAV should the encoder refuse the audio.
    static func embeddedAudio(_ audio: WaveFile.Audio) -> (type: String, data: Data) {
        let mixed = audio.mixdown()
        if let opus = try? OggOpus.encode(mixed, rate: audio.rate) { return ("audio/ogg;codecs=opus", opus) }
        var wav = WaveFile.header(rate: audio.rate, channels: 1, dataBytes: mixed.count * 2)
        mixed.withUnsafeBytes { wav.append(contentsOf: $0) }
        return ("audio/wav", wav)
    }

    public static func html(_ session: StoredSession, audio: WaveFile.Audio) -> String {
        let summary = session.summary
        let activity = SpeechActivity.analyse(audio)
        let recording = embeddedAudio(audio)

        // The plot's points: the starting meters (call_start) and every change.
        let mood = session.events.compactMap { event -> Payload.MoodPoint? in
            switch event.kind {
            case let .callStart(start): start.meters.map { .init(t: event.t, meters: $0, mood: start.mood) }
            case let .mood(meters, mood): .init(t: event.t, meters: meters, mood: mood)
            default: nil
            }
        }
        let moments = session.timeline.compactMap { entry -> Payload.Moment? in
            switch entry.kind {
            case .note: .init(t: entry.t, kind: "note", text: entry.detail)
            case .trigger, .bargeIn, .outcome: .init(t: entry.t, kind: entry.kind.rawValue, text: "\(entry.kind.label): \(entry.detail)")
            default: nil
            }
        }
        let payload = Payload(id: summary.id, duration: max(summary.duration_s, audio.seconds), mood: mood, moments: moments, activity: activity)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Every '<' is written as \u003c: the JSON island can then neither end its
        // script element nor open a comment, whatever the transcript says.
        let json = (try? String(decoding: encoder.encode(payload), as: UTF8.self)) ?? "{}"

        var page = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; media-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(summary.title ?? summary.scenario)) — \(escape(summary.agent)) — \(escape(localTime(summary.started_at)))</title>
        <style>\(style)</style></head><body>
        <header><h1>\(escape(summary.title ?? summary.scenario))</h1>
        \(summary.situation.map { "<p class=\"situation\">\(escape($0))</p>" } ?? "")
        <p class="facts">\(facts(summary))</p>\(banner(activity))</header>
        <audio id="player" controls preload="auto" src="data:\(recording.type);base64,\(recording.data.base64EncodedString())"></audio>
        \(debrief(summary, duration: max(summary.duration_s, audio.seconds)))
        <section><h2>Anger and trust</h2><svg id="mood-plot" viewBox="0 0 1000 220" role="img" aria-label="anger and trust over the call"></svg>
        <p class="legend"><span class="swatch" style="background:#d9480f"></span>anger <span class="swatch" style="background:#2a6fdb"></span>trust <span class="swatch dashed"></span>trigger, barge-in or outcome <span class="swatch note"></span>supervisor's note · 0–100, higher is more</p></section>
        <section><h2>Who talked when</h2><svg id="talk-timeline" viewBox="0 0 1000 90" role="img" aria-label="talk, silence and overlap"></svg>
        <p class="facts">agent \(seconds(activity.agentSeconds)) · caller \(seconds(activity.callerSeconds)) · both at once \(seconds(activity.overlapSeconds)) · silence \(seconds(activity.silenceSeconds))</p></section>

        """
        page += score(summary)
        page += transcript(session)
        page += annotations(session)
        page += """
        <script type="application/json" id="data">\(json.replacingOccurrences(of: "<", with: "\\u003c"))</script>
        <script>\(script)</script>
        </body></html>

        """
        return page
    }

    static func facts(_ s: CallSummary) -> String {
        var parts = ["\(escape(s.scenario))", "agent \(escape(s.agent))", escape(localTime(s.started_at)), Clock.format(s.duration_s),
                     "outcome <b>\(escape(s.outcome))</b>"]
        if let difficulty = s.difficulty { parts.insert("<span id=\"difficulty\">\(escape(difficulty)) caller</span>", at: 1) }
        if let score = s.score {
            parts.append("score <b>\(format(score.total))</b> of 100 (\(score.passed ? "passed" : "not passed"), pass mark \(format(score.passMark)))")
        }
        if let p50 = s.turn_gap_ms.p50, let p95 = s.turn_gap_ms.p95 { parts.append("turn gap p50 \(Int(p50)) ms, p95 \(Int(p95)) ms") }
        if s.interrupted { parts.append("<b>interrupted</b> (ended by a crash; repaired)") }
        return parts.joined(separator: " · ")
    }

    /// An ISO 8601 time as the reader's clock shows it: the machine's time zone, with its offset.
    static func localTime(_ iso: String, zone: TimeZone = .current) -> String {
        guard let date = ISO8601DateFormatter().date(from: iso) else { return iso }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'xxx"
        return formatter.string(from: date)
    }

    /// A call one side of which never spoke says so before anything else.
    static func banner(_ activity: SpeechActivity) -> String {
        var silent: [String] = []
        if activity.callerSeconds < 0.2 { silent.append("The caller said nothing audible in this call.") }
        if activity.agentSeconds < 0.2 { silent.append("The agent said nothing audible in this call.") }
        return silent.map { "\n<p class=\"banner\" role=\"alert\">\($0)</p>" }.joined()
    }

    /// Seconds of the call heard before and after a moment when its clip plays.
    static let clipMargin = 4.0

    /// Where a moment's clip starts and stops: a few seconds either side, within the call.
    public static func clip(_ point: TurningPoint, duration: Double) -> (start: Double, end: Double) {
        (max(0, point.t - clipMargin), min(duration, max(point.end, point.t) + clipMargin))
    }

    /// The turning points first: each with its clip (both voices, a few seconds either side),
    /// what was said, the caller's mood before and after, the criterion and a conscious alternative.
    static func debrief(_ s: CallSummary, duration: Double) -> String {
        var html = "<section id=\"debrief\"><h2>Did you respond consciously?</h2>\n"
        if let retry = s.retry {
            html += "<p class=\"retry\">This call practised moment \(retry.moment) of \(escape(retry.session)) again "
                + "(\(escape(retry.headline))). \(escape(retry.verdict))</p>\n"
        }
        guard let points = s.turning_points, !points.isEmpty else {
            let why = s.turning_points == nil ? s.noDebriefReason : "nothing in the call moved the caller much either way"
            return html + "<p>No turning points: \(escape(why)).</p></section>\n"
        }
        html += "<ol class=\"moments\">\n"
        for point in points {
            let (start, end) = clip(point, duration: duration)
            html += "<li class=\"moment \(point.kind.rawValue)\" id=\"moment-\(point.number)\">"
            html += "<button type=\"button\" class=\"clip\" data-clip-start=\"\(format(start))\" data-clip-end=\"\(format(end))\">▶ \(Clock.format(start))–\(Clock.format(end))</button> "
            html += "<b>\(escape(point.headline))</b> at \(seek(point.t))"
            html += "<div class=\"mood\">The caller: \(escape(point.moodBefore.rawValue)) → \(escape(point.moodAfter.rawValue)) (\(escape(point.meterChange)))</div>"
            if let said = point.said { html += "<div>You said: <q>\(escape(said))</q></div>" }
            if let criterion = point.criterionText { html += "<div>Criterion: \(escape(criterion))</div>" }
            if let need = point.need, point.kind != .best { html += "<div>The caller was waiting for: \(escape(need))</div>" }
            if let alternative = point.alternative {
                html += "<div class=\"alternative\">A conscious alternative: <q>\(escape(alternative))</q></div>"
            }
            html += "</li>\n"
        }
        return html + "</ol></section>\n"
    }

    static func score(_ s: CallSummary) -> String {
        guard let score = s.score else { return "<section id=\"score\"><h2>Score</h2><p>Not scored: \(escape(s.noScoreReason)).</p></section>\n" }
        var html = "<section id=\"score\"><h2>Score: \(format(score.total))</h2><ul class=\"criteria\">\n"
        for id in score.order {
            guard let c = score.criteria[id] else { continue }
            html += "<li class=\"\(c.passed ? "pass" : "fail")\"><b>\(c.passed ? "✓" : "✗") \(escape(c.title))</b> (weight \(format(c.weight))) — \(escape(c.note))"
            if !c.evidence.isEmpty {
                html += "<ul>" + c.evidence.map { "<li>\(seek($0.t.seconds)) \(escape($0.text))</li>" }.joined() + "</ul>"
            }
            html += "</li>\n"
        }
        return html + "</ul></section>\n"
    }

    static func transcript(_ session: StoredSession) -> String {
        var items: [String] = []
        for entry in session.timeline {
            let body: String
            let style: String
            switch entry.kind {
            case .agent:
                let moves = entry.moves.map { "<span class=\"move\" title=\"\(escape($0.evidence))\">\(escape($0.move))</span>" }.joined(separator: " ")
                (style, body) = ("agent", "<b>agent</b> \(escape(entry.detail)) \(moves)")
            case .caller: (style, body) = ("caller", "<b>caller</b> \(escape(entry.detail))")
            case .note: (style, body) = ("note", "<b>note by \(escape(entry.by ?? "?"))</b> \(escape(entry.detail))")
            case .mood, .trigger, .bargeIn, .outcome: (style, body) = ("event", escape("\(entry.kind.label): \(entry.detail)"))
            case .phase, .bargeInStop, .xrun, .lineError: continue
            }
            items.append("<li class=\"\(style)\" data-t=\"\(entry.t)\"><span class=\"t\">\(Clock.format(entry.t, tenths: true))</span> \(body)</li>")
        }
        return "<section><h2>Transcript</h2><ol id=\"transcript\">\n" + items.joined(separator: "\n") + "\n</ol></section>\n"
    }

    static func annotations(_ session: StoredSession) -> String {
        guard !session.annotations.isEmpty else { return "" }
        let items = session.annotations.map { "<li>\(seek($0.t)) <b>\(escape($0.by))</b>: \(escape($0.text))</li>" }
        return "<section><h2>Annotations</h2><ul id=\"annotations\">" + items.joined() + "</ul></section>\n"
    }

    static func seek(_ t: Double) -> String { "<a href=\"#\" class=\"seek\" data-t=\"\(t)\">\(Clock.format(t, tenths: true))</a>" }

    static func seconds(_ s: Double) -> String { s >= 60 ? Clock.format(s) : String(format: "%.1f s", s) }

    static func format(_ value: Double) -> String { plainNumber(value) }

    /// Text as HTML: the five characters that could end an element or attribute.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static let style = """
    body{font:15px/1.45 system-ui,sans-serif;max-width:1000px;margin:1.5em auto;padding:0 1em;color:#222}
    h1{margin:.2em 0}h2{font-size:1.05em;margin:1.4em 0 .4em}.facts{color:#555}.situation{margin:.3em 0;max-width:70ch}
    .banner{background:#fff4e6;border-left:4px solid #d9480f;padding:.4em .8em;font-weight:600}
    .legend{color:#555;font-size:.9em}.swatch{display:inline-block;width:1.4em;height:.3em;vertical-align:middle;margin:0 .3em 0 .8em}
    .swatch.dashed{border-top:2px dashed #999;height:0}.swatch.note{border-top:2px dashed #2b8a3e;height:0}
    audio{width:100%;position:sticky;top:0;background:#fff;z-index:1}
    svg{width:100%;height:auto;background:#fafafa;border:1px solid #ddd}
    ol#transcript{list-style:none;padding:0}ol#transcript li{padding:.25em .4em;cursor:pointer;border-left:3px solid transparent}
    ol#transcript li:hover{background:#f0f4ff}li.now{background:#fff6d6!important}
    li.agent{border-color:#2a6fdb!important}li.caller{border-color:#d9480f!important}li.event{color:#666;font-size:.9em}
    li.note{border-color:#2b8a3e!important;background:#ebfbee}.t{font-family:monospace;color:#888;margin-right:.4em}
    .move{font-size:.8em;background:#e7f0ff;border-radius:3px;padding:0 .3em;margin-left:.2em}
    .criteria li.pass b{color:#2b8a3e}.criteria li.fail b{color:#c92a2a}a.seek{font-family:monospace}
    ol.moments{padding-left:1.4em}li.moment{margin:.5em 0;padding:.3em .6em;border-left:4px solid #c92a2a;background:#fff5f5}
    li.moment.best{border-color:#2b8a3e;background:#ebfbee}li.moment div{margin:.15em 0}.alternative{font-weight:600}
    button.clip{font:inherit;font-size:.85em;cursor:pointer}.retry{background:#e7f5ff;padding:.4em .8em}
    """

    /// Draws the plot and the timeline from the embedded data and wires every `data-t` to the player.
    static let script = """
    (function () {
      'use strict';
      var data = JSON.parse(document.getElementById('data').textContent);
      var player = document.getElementById('player');
      var NS = 'http://www.w3.org/2000/svg';
      var W = 1000, L = 58, R = 10, span = Math.max(data.duration, 1);
      function x(t) { return L + (W - L - R) * Math.min(Math.max(t, 0), span) / span; }
      function el(parent, name, attrs, text) {
        var node = document.createElementNS(NS, name);
        for (var k in attrs) node.setAttribute(k, attrs[k]);
        if (text !== undefined) node.textContent = text;
        parent.appendChild(node);
        return node;
      }
      function clock(t) { var s = Math.floor(t); return Math.floor(s / 60) + ':' + ('0' + s % 60).slice(-2); }
      function axis(svg, y) {
        var step = span > 600 ? 120 : span > 180 ? 60 : span > 60 ? 30 : 10;
        for (var t = 0; t <= span; t += step) {
          el(svg, 'line', {x1: x(t), x2: x(t), y1: 0, y2: y, stroke: '#e3e3e3'});
          el(svg, 'text', {x: x(t), y: y + 14, 'font-size': 11, 'text-anchor': 'middle', fill: '#777'}, clock(t));
        }
      }
      function seekTo(t) {
        player.currentTime = t;
        var played = player.play();
        if (played && played.catch) played.catch(function () {});
      }

      // Anger and trust, as steps: a meter holds its value until the next change.
      var plot = document.getElementById('mood-plot');
      var H = 190, T = 22, colours = {anger: '#d9480f', trust: '#2a6fdb'};
      function y(v) { return H - (H - T) * Math.min(Math.max(v, 0), 100) / 100; }
      axis(plot, H);
      [0, 50, 100].forEach(function (v) {
        el(plot, 'text', {x: L - 6, y: y(v) + 4, 'font-size': 11, 'text-anchor': 'end', fill: '#777'}, v);
      });
      var names = {};
      data.mood.forEach(function (p) { Object.keys(p.meters).forEach(function (n) { names[n] = true; }); });
      Object.keys(names).sort().forEach(function (name, i) {
        var points = [], last = null;
        data.mood.forEach(function (p) {
          if (!(name in p.meters)) return;
          var here = y(p.meters[name]);
          if (last !== null) points.push(x(p.t) + ',' + last);
          points.push(x(p.t) + ',' + here);
          last = here;
        });
        if (last !== null) points.push(x(span) + ',' + last);
        el(plot, 'polyline', {points: points.join(' '), fill: 'none', stroke: colours[name] || ['#2b8a3e', '#862e9c'][i % 2],
                              'stroke-width': 2.5, 'class': 'meter', 'data-meter': name});
        el(plot, 'text', {x: L + 8 + 70 * i, y: 14, 'font-size': 12, fill: colours[name] || '#333'}, name);
      });
      data.moments.forEach(function (m) {
        var mark = el(plot, 'line', {x1: x(m.t), x2: x(m.t), y1: 0, y2: H, stroke: m.kind === 'note' ? '#2b8a3e' : '#999',
                                     'stroke-dasharray': '3,3', 'data-t': m.t});
        el(mark, 'title', {}, clock(m.t) + ' ' + m.text);
      });

      // Talk, silence and overlap: one lane per speaker, overlap between them.
      var talk = document.getElementById('talk-timeline');
      axis(talk, 70);
      [['agent', 8, '#2a6fdb'], ['overlap', 30, '#c92a2a'], ['caller', 44, '#d9480f']].forEach(function (lane) {
        var spans = data.activity[lane[0]], h = lane[0] === 'overlap' ? 10 : 18;
        el(talk, 'text', {x: L - 4, y: lane[1] + 12, 'font-size': 10, 'text-anchor': 'end', fill: '#555'}, lane[0]);
        spans.forEach(function (s) {
          el(talk, 'rect', {x: x(s[0]), y: lane[1], width: Math.max(x(s[1]) - x(s[0]), 1), height: h, fill: lane[2],
                            'class': 'talk ' + lane[0], 'data-t': s[0]});
        });
      });
      var cursor = el(talk, 'line', {x1: L, x2: L, y1: 0, y2: 70, stroke: '#000'});
      var plotCursor = el(plot, 'line', {x1: L, x2: L, y1: 0, y2: H, stroke: '#000'});

      // A moment's clip plays from a few seconds before it to a few after, then stops.
      var clipEnd = null;
      document.addEventListener('click', function (e) {
        var clip = e.target.closest ? e.target.closest('[data-clip-start]') : null;
        if (!clip) return;
        e.preventDefault();
        clipEnd = parseFloat(clip.getAttribute('data-clip-end'));
        seekTo(parseFloat(clip.getAttribute('data-clip-start')));
      });
      player.addEventListener('timeupdate', function () {
        if (clipEnd !== null && player.currentTime >= clipEnd) { player.pause(); clipEnd = null; }
      });

      document.addEventListener('click', function (e) {
        if (e.target.closest && e.target.closest('[data-clip-start]')) return;
        var target = e.target.closest ? e.target.closest('[data-t]') : null;
        if (!target) return;
        e.preventDefault();
        clipEnd = null;
        seekTo(parseFloat(target.getAttribute('data-t')));
      });
      [plot, talk].forEach(function (svg) {
        svg.addEventListener('click', function (e) {
          if (e.target.hasAttribute('data-t')) return;
          var box = svg.getBoundingClientRect(), px = (e.clientX - box.left) * W / box.width;
          seekTo(Math.max(0, (px - L) / (W - L - R) * span));
        });
      });

      // Follow the player: move the cursors, light the line being heard.
      var lines = Array.prototype.slice.call(document.querySelectorAll('#transcript li'));
      player.addEventListener('timeupdate', function () {
        var t = player.currentTime, now = null;
        [cursor, plotCursor].forEach(function (c) { c.setAttribute('x1', x(t)); c.setAttribute('x2', x(t)); });
        lines.forEach(function (li) { if (parseFloat(li.getAttribute('data-t')) <= t + 0.05) now = li; li.classList.remove('now'); });
        if (now) now.classList.add('now');
      });
    })();
    """
}
