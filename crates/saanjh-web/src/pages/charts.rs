//! Server-rendered SVG charts, written by hand: a few hundred bytes each,
//! no font files, no script, readable with JavaScript off. Each chart has a
//! `<title>` and `role="img"` with a label, and the same figures are always
//! in a table beside it, so the chart is never the only way to read them.

use std::collections::BTreeMap;
use std::fmt::Write;

use saanjh_core::arrangement::Arrangement;
use saanjh_core::engine::{SchemeState, parse_time};
use saanjh_core::ledger::statement::Statement;
use saanjh_store::ObligationRow;

use super::ctx::Visitor;
use super::public::MapPoint;
use super::views::{rs, stages_entered};

/// Escape text for SVG (XML).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const W: f64 = 320.0;
const BLUE: &str = "#0b4f9c";
const GREY: &str = "#767676";
const GREEN: &str = "#1e6b2a";
const RED: &str = "#a01818";

fn open(out: &mut String, h: f64, label: &str) {
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {h}" width="100%" style="max-width:{W}px" role="img" aria-label="{l}"><title>{l}</title>"##,
        l = esc(label)
    );
}

/// Each partner's contributions (put in) against its share (owed): an
/// outlined bar for the share, a filled bar for what came in.
pub fn contributions(v: &Visitor, st: &Statement) -> String {
    let roles: Vec<_> = st
        .roles
        .iter()
        .filter(|r| r.owed.minor() > 0 || r.put_in.minor() > 0)
        .collect();
    if roles.is_empty() {
        return String::new();
    }
    let max = roles
        .iter()
        .map(|r| r.owed.minor().max(r.put_in.minor()))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let row = 44.0;
    let h = row * roles.len() as f64 + 8.0;
    let mut s = String::new();
    open(&mut s, h, &v.t("chart-money"));
    for (n, r) in roles.iter().enumerate() {
        let y = 4.0 + n as f64 * row;
        let owed = r.owed.minor() as f64 / max * (W - 8.0);
        let put = r.put_in.minor() as f64 / max * (W - 8.0);
        let _ = write!(
            s,
            r##"<text x="4" y="{ty}" font-size="12" fill="#1b1b1b">{name}: {put_t} / {owed_t}</text><rect x="4" y="{by}" width="{owed:.1}" height="16" fill="none" stroke="{GREY}"/><rect x="4" y="{by}" width="{put:.1}" height="16" fill="{c}"/>"##,
            ty = y + 12.0,
            by = y + 18.0,
            name = esc(&r.name),
            put_t = esc(&rs(r.put_in.minor())),
            owed_t = esc(&rs(r.owed.minor())),
            c = if r.put_in.minor() >= r.owed.minor() {
                GREEN
            } else {
                BLUE
            },
        );
    }
    s.push_str("</svg>");
    s
}

/// The stages a scheme has reached over time, as steps.
pub fn progress(v: &Visitor, arr: &Arrangement, scheme: &SchemeState) -> String {
    let stages: Vec<&str> = arr
        .file
        .lifecycle
        .stages
        .iter()
        .map(|s| s.as_ref().as_str())
        .filter(|s| *s != "abandoned")
        .collect();
    let reached: Vec<(usize, i64)> = stages_entered(arr, scheme)
        .iter()
        .filter_map(|(st, at)| {
            let i = stages.iter().position(|x| x == st)?;
            Some((i, parse_time(at)?.unix_timestamp()))
        })
        .collect();
    if reached.is_empty() || stages.len() < 2 {
        return String::new();
    }
    let t0 = reached.iter().map(|r| r.1).min().unwrap_or(0);
    let t1 = reached
        .iter()
        .map(|r| r.1)
        .max()
        .unwrap_or(0)
        .max(t0 + 86_400);
    let h = 150.0;
    let (l, r, top, bottom) = (8.0, W - 8.0, 20.0, h - 20.0);
    let x = |t: i64| l + (t - t0) as f64 / (t1 - t0) as f64 * (r - l);
    let y = |i: usize| bottom - i as f64 / (stages.len() - 1) as f64 * (bottom - top);
    let mut s = String::new();
    open(&mut s, h, &v.t("chart-progress"));
    let _ = write!(
        s,
        r##"<line x1="{l}" y1="{bottom}" x2="{r}" y2="{bottom}" stroke="{GREY}"/><line x1="{l}" y1="{top}" x2="{r}" y2="{top}" stroke="{GREY}" stroke-dasharray="3 3"/>"##
    );
    let mut path = String::new();
    let mut last = None;
    for (i, t) in &reached {
        let (px, py) = (x(*t), y(*i));
        match last {
            None => {
                let _ = write!(path, "M{px:.1} {py:.1}");
            }
            Some(ly) => {
                let _ = write!(path, " L{px:.1} {ly:.1} L{px:.1} {py:.1}");
            }
        }
        last = Some(py);
    }
    let _ = write!(
        s,
        r##"<path d="{path}" fill="none" stroke="{BLUE}" stroke-width="2"/>"##
    );
    if let Some((i, t)) = reached.last() {
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{BLUE}"/>"##,
            x(*t),
            y(*i)
        );
    }
    let _ = write!(
        s,
        r##"<text x="{l}" y="{}" font-size="11" fill="#1b1b1b">{}</text><text x="{l}" y="14" font-size="11" fill="#1b1b1b">{}</text>"##,
        h - 4.0,
        esc(&v.stage(stages[0])),
        esc(&v.stage(stages[stages.len() - 1]))
    );
    s.push_str("</svg>");
    s
}

/// Per partner: obligations met on time, met late or breached, and open
/// past their due date.
pub fn obligations_on_time(
    v: &Visitor,
    arr: &Arrangement,
    rows: &[ObligationRow],
    now: &str,
) -> String {
    // role → (on time, late or breached)
    let mut by: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for o in rows {
        let role = o
            .position
            .split('.')
            .next()
            .unwrap_or(&o.position)
            .to_string();
        let e = by.entry(role).or_default();
        match o.status.as_str() {
            "met" => e.0 += 1,
            "open" if o.due_at.as_str() < now => e.1 += 1,
            "open" | "lapsed" => {}
            _ => e.1 += 1,
        }
    }
    by.retain(|_, (a, b)| *a + *b > 0);
    if by.is_empty() {
        return String::new();
    }
    let max = by.values().map(|(a, b)| a + b).max().unwrap_or(1).max(1) as f64;
    let row = 40.0;
    let h = row * by.len() as f64 + 8.0;
    let mut s = String::new();
    open(&mut s, h, &v.t("chart-obligations"));
    for (n, (role, (ok, bad))) in by.iter().enumerate() {
        let y = 4.0 + n as f64 * row;
        let name = arr
            .file
            .partners
            .get(role)
            .map(|p| p.name.as_str())
            .unwrap_or(role);
        let wok = *ok as f64 / max * (W - 8.0);
        let wbad = *bad as f64 / max * (W - 8.0);
        let _ = write!(
            s,
            r##"<text x="4" y="{ty}" font-size="12" fill="#1b1b1b">{name}: {ok} ✓ {bad} ✗</text><rect x="4" y="{by}" width="{wok:.1}" height="14" fill="{GREEN}"/><rect x="{bx:.1}" y="{by}" width="{wbad:.1}" height="14" fill="{RED}"/>"##,
            ty = y + 12.0,
            by = y + 18.0,
            bx = 4.0 + wok,
            name = esc(name),
        );
    }
    s.push_str("</svg>");
    s
}

/// A sketch of where the schemes are, numbered as in the list beside it
/// (the list holds the links): useful when no map tiles can load.
pub fn map_sketch(v: &Visitor, points: &[MapPoint]) -> String {
    if points.is_empty() {
        return String::new();
    }
    let (mut la0, mut la1, mut lo0, mut lo1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in points {
        la0 = la0.min(p.lat);
        la1 = la1.max(p.lat);
        lo0 = lo0.min(p.lon);
        lo1 = lo1.max(p.lon);
    }
    let pad = 0.01;
    let (la0, la1, lo0, lo1) = (la0 - pad, la1 + pad, lo0 - pad, lo1 + pad);
    let h = 240.0;
    let mut s = String::new();
    open(&mut s, h, &v.t("map-sketch"));
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{W}" height="{h}" fill="#f4f7fb" stroke="{GREY}"/>"##
    );
    let mut seen: BTreeMap<(i64, i64), u32> = BTreeMap::new();
    for (n, p) in points.iter().enumerate() {
        let x = 10.0 + (p.lon - lo0) / (lo1 - lo0) * (W - 20.0);
        let y = 10.0 + (la1 - p.lat) / (la1 - la0) * (h - 20.0);
        // Schemes at the same point fan out so their numbers stay readable.
        let k = seen
            .entry(((x * 10.0) as i64, (y * 10.0) as i64))
            .or_default();
        let dy = *k as f64 * 14.0;
        *k += 1;
        let _ = write!(
            s,
            r##"<circle cx="{x:.1}" cy="{cy:.1}" r="5" fill="{RED}"/><text x="{tx:.1}" y="{ty:.1}" font-size="11" fill="#1b1b1b">{num}</text>"##,
            cy = y + dy,
            tx = x + 7.0,
            ty = y + dy + 4.0,
            num = n + 1,
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn svg_text_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
