import Foundation
import Mustache
import SparringCore

/// The hub's pages: Mustache templates compiled into the binary (nothing to install, nothing fetched).
///
/// Every value reaches the page through `{{…}}`, which escapes HTML; the
/// pages load only the hub's own script and style sheet.
struct Pages: Sendable {
    let library: MustacheLibrary

    init() throws(SparringError) {
        var library = MustacheLibrary()
        do {
            for (name, text) in Self.templates { try library.register(text, named: name) }
        } catch {
            throw SparringError("template", "a page template does not parse (\(error))")
        }
        self.library = library
    }

    func render(_ name: String, _ object: Any) -> String {
        library.render(object, withTemplate: name) ?? ""
    }

    static let templates: [String: String] = [
        "head": """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{title}} · Sparring Hub</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/static/hub.css"></head>
            <body><header><a href="/" class="brand">Sparring Hub</a>
            {{#viewer}}<nav><a href="/">Dashboard</a> <a href="/agents/{{name}}">My calls</a>
            <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
            <button type="submit">Sign out {{name}} ({{role}})</button></form></nav>{{/viewer}}
            </header><main>
            """,
        "foot": """
            </main><script src="/static/hub.js"></script></body></html>
            """,
        "login": """
            {{> head}}
            <h1>Sign in</h1>
            {{#message}}<p class="problem" role="alert">{{message}}</p>{{/message}}
            <form method="post" action="/login" class="login">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <label>Name <input name="name" autocomplete="username" required autofocus value="{{name}}"></label>
            <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
            <button type="submit">Sign in</button>
            </form>
            {{> foot}}
            """,
        "dashboard": """
            {{> head}}
            <h1>{{heading}}</h1>
            <form method="get" action="/" class="filters" aria-label="Filters">
            <label>Team <input name="team" value="{{filter.team}}"></label>
            <label>Agent <input name="agent" value="{{filter.agent}}"></label>
            <label>Scenario <input name="scenario" value="{{filter.scenario}}"></label>
            <label>Outcome <input name="outcome" value="{{filter.outcome}}"></label>
            <label>From <input name="since" type="date" value="{{filter.since}}"></label>
            <label>Before <input name="until" type="date" value="{{filter.until}}"></label>
            <button type="submit">Filter</button> <a href="/dashboard.csv?{{query}}">CSV</a>
            </form>
            <h2>Agents</h2>
            <table id="agents"><thead><tr><th>Agent</th><th>Team</th><th>Calls this week</th><th>Calls</th><th>Pass rate</th><th>Pass rate by week (oldest first)</th></tr></thead><tbody>
            {{#agents}}<tr><td><a href="/agents/{{agent}}">{{agent}}</a></td><td>{{team}}</td><td>{{thisWeek}}</td><td>{{calls}}</td><td>{{passRate}}</td>
            <td class="trend">{{#trend}}<span class="week" title="{{week}}: {{label}}" style="--share:{{share}}">{{label}}</span>{{/trend}}</td></tr>{{/agents}}
            {{^agents}}<tr><td colspan="6">No calls match.</td></tr>{{/agents}}
            </tbody></table>
            {{#paging}}<nav class="paging" aria-label="Pages of agents">Agents {{first}}–{{last}} of {{total}}
            {{#previous}}<a href="/?{{.}}" rel="prev">Previous</a>{{/previous}} {{#next}}<a href="/?{{.}}" rel="next">Next</a>{{/next}}</nav>{{/paging}}
            <h2>Criteria failed, by agent</h2>
            <table id="heat"><thead><tr><th>Agent</th>{{#criteria}}<th>{{.}}</th>{{/criteria}}</tr></thead><tbody>
            {{#heat}}<tr><td>{{agent}}</td>{{#cells}}<td class="heat" style="--share:{{share}}">{{label}}</td>{{/cells}}</tr>{{/heat}}
            </tbody></table>
            <h2>Scenarios</h2>
            <table id="scenarios"><thead><tr><th>Scenario</th><th>Calls</th><th>Pass rate</th><th>Median anger at the end</th></tr></thead><tbody>
            {{#scenarios}}<tr><td>{{scenario}}</td><td>{{calls}}</td><td>{{passRate}}</td><td>{{medianAnger}}</td></tr>{{/scenarios}}
            </tbody></table>
            <h2>Calls</h2>
            {{> sessionTable}}
            {{> foot}}
            """,
        "sessionTable": """
            <table id="sessions"><thead><tr><th>Started</th><th>Agent</th><th>Scenario</th><th>Outcome</th><th>Score</th></tr></thead><tbody>
            {{#sessions}}<tr><td><a href="/sessions/{{id}}">{{started}}</a></td><td>{{agent}}</td><td>{{scenario}}</td><td>{{outcome}}</td><td>{{score}}</td></tr>{{/sessions}}
            {{^sessions}}<tr><td colspan="5">No calls.</td></tr>{{/sessions}}
            </tbody></table>
            """,
        "agent": """
            {{> head}}
            <h1>{{agent}}</h1>
            <h2>Progress per criterion</h2>
            <table id="progress"><thead><tr><th>Criterion</th><th>Passed, first half of the calls</th><th>Passed, second half</th></tr></thead><tbody>
            {{#progress}}<tr><td>{{title}}</td><td>{{first}}</td><td>{{second}}</td></tr>{{/progress}}
            </tbody></table>
            <h2>First and best attempt per scenario</h2>
            <table id="attempts"><thead><tr><th>Scenario</th><th>Calls</th><th>First</th><th>Best</th></tr></thead><tbody>
            {{#attempts}}<tr><td>{{scenario}}</td><td>{{calls}}</td><td><a href="/sessions/{{firstID}}">{{first}}</a></td><td><a href="/sessions/{{bestID}}">{{best}}</a></td></tr>{{/attempts}}
            </tbody></table>
            <h2>Calls</h2>
            {{> sessionTable}}
            {{> foot}}
            """,
        "session": """
            {{> head}}
            <h1>{{scenario}} · {{agent}}</h1>
            <p class="facts">{{started}} · {{duration}} · outcome <strong>{{outcome}}</strong>{{#difficulty}} · {{difficulty}}{{/difficulty}}
             · score <strong id="score">{{score}}</strong>{{#override}} · supervisor's score <strong id="override">{{score}}</strong> by {{author}}: {{reason}}{{/override}}</p>
            {{#audio}}<audio id="player" controls preload="metadata" src="{{audio}}"></audio>{{/audio}}
            {{^audio}}<p>No recording was uploaded with this call.</p>{{/audio}}
            <h2>Who talked when, anger and trust</h2>
            <svg id="timeline" viewBox="0 0 1000 140" role="img" aria-label="Who talked when, and the caller's anger and trust over the call">
            {{#talk}}<rect class="talk {{speaker}}" x="{{x}}" y="{{y}}" width="{{width}}" height="14" data-t="{{t}}"><title>{{speaker}} at {{clock}}</title></rect>{{/talk}}
            <polyline class="anger" points="{{anger}}"></polyline><polyline class="trust" points="{{trust}}"></polyline>
            <text x="4" y="12" class="label">agent</text><text x="4" y="32" class="label">caller</text>
            </svg>
            <p class="legend"><span class="anger">anger</span> <span class="trust">trust</span></p>
            <h2>Transcript</h2>
            <ol id="transcript">{{#lines}}<li class="{{speaker}}"><button type="button" class="seek" data-t="{{t}}">{{clock}}</button> <b>{{speaker}}</b> {{text}}</li>{{/lines}}</ol>
            <h2>Score</h2>
            <ul id="criteria">{{#criteria}}<li class="{{state}}"><b>{{title}}</b>: {{state}}. {{note}}
            {{#evidence}}<button type="button" class="seek" data-t="{{t}}">{{clock}}</button> “{{text}}” {{/evidence}}</li>{{/criteria}}</ul>
            <h2>Annotations</h2>
            <ul id="annotations">{{#annotations}}<li id="annotation-{{id}}"><button type="button" class="seek" data-t="{{t}}">{{clock}}</button> <b>{{author}}</b>: {{text}}
            {{#replies}}<div class="reply"><b>{{author}}</b>: {{text}}</div>{{/replies}}
            <form method="post" action="/sessions/{{session}}/annotations" class="reply-form"><input type="hidden" name="csrf" value="{{csrf}}">
            <input type="hidden" name="reply_to" value="{{id}}"><input type="hidden" name="t" value="{{t}}">
            <label>Reply <input name="text" required maxlength="4000"></label> <button type="submit">Reply</button></form></li>{{/annotations}}</ul>
            <form method="post" action="/sessions/{{id}}/annotations" id="annotate">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <label>At <input name="at" id="at" value="0:00" size="7" pattern="[0-9:.]+"></label>
            <label>Note <input name="text" required maxlength="4000" size="60"></label>
            <button type="submit">Annotate</button></form>
            {{#canOverride}}<h2>Override the score</h2>
            <form method="post" action="/sessions/{{id}}/override" id="override-form">
            <input type="hidden" name="csrf" value="{{csrf}}">
            <label>Score <input name="score" type="number" min="0" max="100" step="1" required></label>
            <label>Reason <input name="reason" required maxlength="2000" size="60"></label>
            <button type="submit">Override</button></form>{{/canOverride}}
            {{> foot}}
            """,
    ]

    /// The pages' script: seeking from the transcript and the timeline, and annotating at the moment being played.
    static let script = """
        (function () {
          var player = document.getElementById('player');
          var at = document.getElementById('at');
          function clock(s) { var m = Math.floor(s / 60), r = Math.floor(s % 60); return m + ':' + (r < 10 ? '0' : '') + r; }
          document.addEventListener('click', function (e) {
            var t = e.target.closest('[data-t]');
            if (!t || !player) return;
            player.currentTime = parseFloat(t.getAttribute('data-t'));
            if (at) at.value = clock(player.currentTime);
          });
          if (player && at) {
            player.addEventListener('timeupdate', function () { if (document.activeElement !== at) at.value = clock(player.currentTime); });
          }
        })();
        """

    static let style = """
        body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d232b; }
        header { display: flex; gap: 2em; align-items: center; padding: .6em 1.2em; background: #1f3a5a; color: #fff; }
        header a { color: #fff; margin-right: 1em; } .brand { font-weight: bold; }
        main { padding: 1em 1.4em; max-width: 1200px; }
        table { border-collapse: collapse; margin: .5em 0 1.5em; } th, td { border-bottom: 1px solid #d6dbe1; padding: .25em .6em; text-align: left; }
        .heat { background: rgba(192, 57, 43, calc(var(--share) * 1)); }
        .week { display: inline-block; min-width: 2.6em; margin-right: 2px; background: rgba(39, 174, 96, calc(var(--share) * 1)); }
        .problem { color: #a61b1b; } .inline { display: inline; }
        form label { margin-right: .8em; } button:focus, a:focus, input:focus { outline: 3px solid #f0a500; }
        #timeline { width: 100%; max-width: 1000px; background: #f5f7f9; }
        .talk.agent { fill: #2e86c1; } .talk.caller { fill: #ca6f1e; }
        polyline { fill: none; stroke-width: 2; } .anger, polyline.anger { stroke: #c0392b; color: #c0392b; } .trust, polyline.trust { stroke: #27ae60; color: #27ae60; }
        .label { font-size: 11px; fill: #555; }
        #transcript li.agent b { color: #2e86c1; } #transcript li.caller b { color: #ca6f1e; }
        .passed { color: #1e7d43; } .failed { color: #a61b1b; } .reply { margin-left: 2em; }
        """
}
