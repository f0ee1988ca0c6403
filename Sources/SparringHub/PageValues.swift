import Mustache

// The rows the pages repeat name their fields for the templates themselves.
// Without this, swift-mustache finds a field by reflecting the whole value
// (a Mirror, every field's value boxed) for each `{{name}}`: rendering the
// admin's dashboard of 500 agents took four fifths of the hub's CPU there (perf). A test checks
// that every stored field is named here as the Mirror would give it.

extension Dashboard.Week: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "week": week
        case "label": label
        case "share": share
        default: nil
        }
    }
}

extension Dashboard.AgentRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "agent": agent
        case "team": team
        case "thisWeek": thisWeek
        case "calls": calls
        case "passRate": passRate
        case "trend": trend
        default: nil
        }
    }
}

extension Dashboard.Cell: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "share": share
        default: nil
        }
    }
}

extension Dashboard.HeatRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "agent": agent
        case "cells": cells
        default: nil
        }
    }
}

extension Dashboard.ScenarioRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "scenario": scenario
        case "calls": calls
        case "passRate": passRate
        case "medianAnger": medianAnger
        default: nil
        }
    }
}

extension SessionRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "started": started
        case "agent": agent
        case "scenario": scenario
        case "outcome": outcome
        case "score": score
        default: nil
        }
    }
}

extension SessionPage.Talk: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "speaker": speaker
        case "x": x
        case "y": y
        case "width": width
        case "t": t
        case "clock": clock
        default: nil
        }
    }
}

extension SessionPage.Line: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "speaker": speaker
        case "t": t
        case "clock": clock
        case "text": text
        default: nil
        }
    }
}
