//! Reading and writing the pabulib `.pb` format (pabulib.org/format): three `;`-separated
//! tables META, PROJECTS, VOTES. Reading validates everything a rule relies on and reports
//! the first problem with its line number; nothing half-read is ever returned.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::model::{Instance, Money, Project, VoteType, Voter};

/// A malformed `.pb` file: what is wrong and on which line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

fn err<T>(line: usize, message: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError {
        line,
        message: message.into(),
    })
}

/// One CSV record with the line it started on.
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// Splits the text into `;`-separated records, honouring `"` quoting (doubled quotes
/// inside, and a quoted field may span lines). Blank lines are skipped.
fn records(text: &str) -> Result<Vec<Record>, ParseError> {
    let mut out = Vec::new();
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    let mut fields: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut start_line = 1usize;
    let mut in_quotes = false;
    let mut quoted_field = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cur.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    cur.push('\n');
                }
                _ => cur.push(c),
            }
            continue;
        }
        match c {
            '"' if cur.is_empty() && !quoted_field => {
                in_quotes = true;
                quoted_field = true;
                any = true;
            }
            ';' => {
                fields.push(std::mem::take(&mut cur));
                quoted_field = false;
                any = true;
            }
            '\r' => {}
            '\n' => {
                if any || !cur.trim().is_empty() {
                    fields.push(std::mem::take(&mut cur));
                    out.push(Record {
                        line: start_line,
                        fields: std::mem::take(&mut fields),
                    });
                }
                cur.clear();
                quoted_field = false;
                any = false;
                line += 1;
                start_line = line;
            }
            _ => {
                if quoted_field {
                    return err(line, "text after a closing quote");
                }
                cur.push(c);
                any = true;
            }
        }
    }
    if in_quotes {
        return err(start_line, "a quoted field is never closed");
    }
    if any || !cur.trim().is_empty() {
        fields.push(cur);
        out.push(Record {
            line: start_line,
            fields,
        });
    }
    Ok(out)
}

fn section_title(r: &Record) -> Option<&'static str> {
    if r.fields.len() != 1 {
        return None;
    }
    match r.fields[0].trim().to_ascii_uppercase().as_str() {
        "META" => Some("META"),
        "PROJECTS" => Some("PROJECTS"),
        "VOTES" => Some("VOTES"),
        _ => None,
    }
}

/// Parses a `.pb` file. A leading byte-order mark is ignored.
pub fn parse(text: &str) -> Result<Instance, ParseError> {
    parse_with_warnings(text).map(|(i, _)| i)
}

/// Parses a `.pb` file, also returning what was tolerated (each with its line): a project
/// repeated on an approval ballot is counted once.
pub fn parse_with_warnings(text: &str) -> Result<(Instance, Vec<ParseError>), ParseError> {
    let mut warnings = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let recs = records(text)?;
    let last_line = text.lines().count().max(1);

    // Locate the three sections, in order.
    let mut bounds: Vec<(&'static str, usize)> = Vec::new();
    for (i, r) in recs.iter().enumerate() {
        if let Some(t) = section_title(r) {
            bounds.push((t, i));
        }
    }
    let expected = ["META", "PROJECTS", "VOTES"];
    for (k, name) in expected.iter().enumerate() {
        match bounds.get(k) {
            Some((t, i)) if t == name => {
                let _ = i;
            }
            Some((t, i)) => {
                return err(
                    recs[*i].line,
                    format!(
                        "expected section {name} here, found {t} (sections must be META, PROJECTS, VOTES in that order)"
                    ),
                );
            }
            None => return err(last_line, format!("missing section {name}")),
        }
    }
    if let Some((t, i)) = bounds.get(3) {
        return err(recs[*i].line, format!("section {t} appears twice"));
    }
    if bounds[0].1 != 0 {
        return err(recs[0].line, "the file must begin with META");
    }
    let meta_recs = &recs[bounds[0].1 + 1..bounds[1].1];
    let proj_recs = &recs[bounds[1].1 + 1..bounds[2].1];
    let vote_recs = &recs[bounds[2].1 + 1..];
    let section_line = |i: usize| recs[i].line;

    // META
    let Some((mh, meta_rows)) = meta_recs.split_first() else {
        return err(
            section_line(bounds[0].1),
            "META has no header line `key;value`",
        );
    };
    if mh.fields.len() != 2 || mh.fields[0].trim() != "key" || mh.fields[1].trim() != "value" {
        return err(mh.line, "META header must be `key;value`");
    }
    let mut meta: Vec<(String, String)> = Vec::new();
    let mut meta_line: HashMap<String, usize> = HashMap::new();
    for r in meta_rows {
        if r.fields.len() != 2 {
            return err(
                r.line,
                format!("META rows have 2 fields, found {}", r.fields.len()),
            );
        }
        let k = r.fields[0].trim().to_string();
        if meta_line.contains_key(&k) {
            return err(r.line, format!("META key `{k}` given twice"));
        }
        meta_line.insert(k.clone(), r.line);
        meta.push((k, r.fields[1].clone()));
    }
    let get = |k: &str| meta.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.trim());
    let meta_end = section_line(bounds[1].1);
    let budget = match get("budget") {
        None => return err(meta_end, "META lacks `budget`"),
        Some(b) => match Money::parse(b) {
            Some(m) if m.0 >= 0 => m,
            _ => {
                return err(
                    meta_line["budget"],
                    format!("budget `{b}` is not a non-negative number"),
                );
            }
        },
    };
    let vote_type = match get("vote_type") {
        None => return err(meta_end, "META lacks `vote_type`"),
        Some(v) => match VoteType::parse(v) {
            Some(t) => t,
            None => return err(meta_line["vote_type"], format!("unknown vote_type `{v}`")),
        },
    };
    let meta_int = |k: &str| -> Result<Option<i64>, ParseError> {
        match get(k) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(x) => Ok(Some(x)),
                Err(_) => match Money::parse(v) {
                    // Some files write `max_sum_cost` with decimals; only integers matter below.
                    Some(m) if m.0 % crate::model::MICRO == 0 => {
                        Ok(Some((m.0 / crate::model::MICRO) as i64))
                    }
                    _ => err(meta_line[k], format!("`{k}` value `{v}` is not an integer")),
                },
            },
        }
    };
    let max_length = meta_int("max_length")?;
    let max_sum_points = meta_int("max_sum_points")?;
    let num_projects = meta_int("num_projects")?;
    let num_votes = meta_int("num_votes")?;

    // PROJECTS
    let Some((ph, proj_rows)) = proj_recs.split_first() else {
        return err(section_line(bounds[1].1), "PROJECTS has no header line");
    };
    let pcols: Vec<String> = ph.fields.iter().map(|s| s.trim().to_string()).collect();
    let Some(pid_col) = pcols.iter().position(|c| c == "project_id") else {
        return err(ph.line, "PROJECTS header lacks `project_id`");
    };
    let Some(cost_col) = pcols.iter().position(|c| c == "cost") else {
        return err(ph.line, "PROJECTS header lacks `cost`");
    };
    let mut projects: Vec<Project> = Vec::with_capacity(proj_rows.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in proj_rows {
        if r.fields.len() != pcols.len() {
            return err(
                r.line,
                format!(
                    "project row has {} fields, the header has {}",
                    r.fields.len(),
                    pcols.len()
                ),
            );
        }
        let id = r.fields[pid_col].trim().to_string();
        if id.is_empty() {
            return err(r.line, "empty project_id");
        }
        let cost_text = r.fields[cost_col].trim();
        let cost = match Money::parse(cost_text) {
            Some(c) if c.0 >= 0 => c,
            _ => {
                return err(
                    r.line,
                    format!("cost `{cost_text}` of project `{id}` is not a non-negative number"),
                );
            }
        };
        if index.insert(id.clone(), projects.len()).is_some() {
            return err(r.line, format!("project `{id}` listed twice"));
        }
        let fields = pcols
            .iter()
            .zip(&r.fields)
            .enumerate()
            .filter(|(i, _)| *i != pid_col && *i != cost_col)
            .map(|(_, (k, v))| (k.clone(), v.clone()))
            .collect();
        projects.push(Project { id, cost, fields });
    }
    if let Some(np) = num_projects
        && np != projects.len() as i64
    {
        return err(
            meta_line["num_projects"],
            format!(
                "num_projects is {np} but PROJECTS has {} rows",
                projects.len()
            ),
        );
    }

    // VOTES
    let Some((vh, vote_rows)) = vote_recs.split_first() else {
        return err(section_line(bounds[2].1), "VOTES has no header line");
    };
    let vcols: Vec<String> = vh.fields.iter().map(|s| s.trim().to_string()).collect();
    let Some(vid_col) = vcols.iter().position(|c| c == "voter_id") else {
        return err(vh.line, "VOTES header lacks `voter_id`");
    };
    let Some(vote_col) = vcols.iter().position(|c| c == "vote") else {
        return err(vh.line, "VOTES header lacks `vote`");
    };
    let points_col = vcols.iter().position(|c| c == "points");
    if vote_type.has_points() && points_col.is_none() {
        return err(
            vh.line,
            format!("{} ballots need a `points` column", vote_type.as_str()),
        );
    }
    let mut voters: Vec<Voter> = Vec::with_capacity(vote_rows.len());
    let mut seen_voters: HashSet<String> = HashSet::with_capacity(vote_rows.len());
    for r in vote_rows {
        if r.fields.len() != vcols.len() {
            return err(
                r.line,
                format!(
                    "vote row has {} fields, the header has {}",
                    r.fields.len(),
                    vcols.len()
                ),
            );
        }
        let id = r.fields[vid_col].trim().to_string();
        if !seen_voters.insert(id.clone()) {
            return err(r.line, format!("voter `{id}` appears twice"));
        }
        let cell = r.fields[vote_col].trim();
        let mut vote = Vec::new();
        if !cell.is_empty() && cell != "None" {
            let mut on_ballot = HashSet::new();
            for pid in cell.split(',') {
                let pid = pid.trim();
                let Some(&pi) = index.get(pid) else {
                    return err(
                        r.line,
                        format!("voter `{id}` votes for unknown project `{pid}`"),
                    );
                };
                if !on_ballot.insert(pi) {
                    // Real files (Warszawa 2022) repeat a project on an approval ballot; the
                    // repeat adds nothing there, but on a points ballot it would be ambiguous.
                    if vote_type.has_points() {
                        return err(r.line, format!("voter `{id}` lists project `{pid}` twice"));
                    }
                    warnings.push(ParseError {
                        line: r.line,
                        message: format!("voter `{id}` lists project `{pid}` twice; counted once"),
                    });
                    continue;
                }
                vote.push(pi);
            }
        }
        let points = match points_col {
            Some(pc) if vote_type.has_points() => {
                let cell = r.fields[pc].trim();
                let mut pts = Vec::new();
                if !cell.is_empty() && cell != "None" {
                    for p in cell.split(',') {
                        match p.trim().parse::<i64>() {
                            Ok(x) => pts.push(x),
                            Err(_) => {
                                return err(
                                    r.line,
                                    format!("points `{p}` of voter `{id}` is not an integer"),
                                );
                            }
                        }
                    }
                }
                if pts.len() != vote.len() {
                    return err(
                        r.line,
                        format!(
                            "voter `{id}` has {} projects but {} points",
                            vote.len(),
                            pts.len()
                        ),
                    );
                }
                if let Some(maxp) = max_sum_points {
                    let s: i64 = pts.iter().sum();
                    if s > maxp {
                        return err(
                            r.line,
                            format!(
                                "voter `{id}` gives {s} points, more than max_sum_points {maxp}"
                            ),
                        );
                    }
                }
                Some(pts)
            }
            _ => None,
        };
        if let Some(ml) = max_length
            && vote.len() as i64 > ml
        {
            return err(
                r.line,
                format!(
                    "voter `{id}` chose {} projects, more than max_length {ml}",
                    vote.len()
                ),
            );
        }
        if vote_type == VoteType::Choose1 && vote.len() > 1 {
            return err(
                r.line,
                format!(
                    "voter `{id}` chose {} projects on a choose-1 ballot",
                    vote.len()
                ),
            );
        }
        let fields = vcols
            .iter()
            .zip(&r.fields)
            .enumerate()
            .filter(|(i, _)| *i != vid_col && *i != vote_col && Some(*i) != points_col)
            .map(|(_, (k, v))| (k.clone(), v.clone()))
            .collect();
        voters.push(Voter {
            id,
            vote,
            points,
            fields,
        });
    }
    if let Some(nv) = num_votes
        && nv != voters.len() as i64
    {
        return err(
            meta_line["num_votes"],
            format!("num_votes is {nv} but VOTES has {} rows", voters.len()),
        );
    }
    Ok((
        Instance {
            meta,
            budget,
            vote_type,
            projects,
            voters,
        },
        warnings,
    ))
}

fn quote(s: &str) -> String {
    if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn row(out: &mut String, cells: impl IntoIterator<Item = String>) {
    let cells: Vec<String> = cells.into_iter().map(|c| quote(&c)).collect();
    out.push_str(&cells.join(";"));
    out.push('\n');
}

/// Writes an instance as a `.pb` file. `num_projects`, `num_votes`, `budget` and
/// `vote_type` are written from the instance itself so the file always agrees with its rows.
pub fn write(inst: &Instance) -> String {
    let mut out = String::new();
    out.push_str("META\nkey;value\n");
    let derived = ["num_projects", "num_votes", "budget", "vote_type"];
    let mut wrote = HashSet::new();
    let value_of = |k: &str| -> Option<String> {
        Some(match k {
            "num_projects" => inst.projects.len().to_string(),
            "num_votes" => inst.voters.len().to_string(),
            "budget" => inst.budget.to_string(),
            "vote_type" => inst.vote_type.as_str().to_string(),
            _ => return None,
        })
    };
    for (k, v) in &inst.meta {
        let v = value_of(k).unwrap_or_else(|| v.clone());
        wrote.insert(k.as_str());
        row(&mut out, [k.clone(), v]);
    }
    for k in derived {
        if !wrote.contains(k)
            && let Some(v) = value_of(k)
        {
            row(&mut out, [k.to_string(), v]);
        }
    }
    out.push_str("PROJECTS\n");
    // The union of extra columns, in first-seen order, so ragged projects still write.
    let mut pcols: Vec<&str> = Vec::new();
    for p in &inst.projects {
        for (k, _) in &p.fields {
            if !pcols.contains(&k.as_str()) {
                pcols.push(k);
            }
        }
    }
    row(
        &mut out,
        ["project_id".to_string(), "cost".to_string()]
            .into_iter()
            .chain(pcols.iter().map(|s| s.to_string())),
    );
    for p in &inst.projects {
        row(
            &mut out,
            [p.id.clone(), p.cost.to_string()]
                .into_iter()
                .chain(pcols.iter().map(|c| p.field(c).unwrap_or("").to_string())),
        );
    }
    out.push_str("VOTES\n");
    let mut vcols: Vec<&str> = Vec::new();
    for v in &inst.voters {
        for (k, _) in &v.fields {
            if !vcols.contains(&k.as_str()) {
                vcols.push(k);
            }
        }
    }
    let with_points = inst.vote_type.has_points();
    let mut header = vec!["voter_id".to_string(), "vote".to_string()];
    if with_points {
        header.push("points".to_string());
    }
    header.extend(vcols.iter().map(|s| s.to_string()));
    row(&mut out, header);
    for v in &inst.voters {
        let ids: Vec<&str> = v
            .vote
            .iter()
            .map(|&i| inst.projects[i].id.as_str())
            .collect();
        let mut cells = vec![v.id.clone(), ids.join(",")];
        if with_points {
            let mut s = String::new();
            for (k, p) in v.points.iter().flatten().enumerate() {
                if k > 0 {
                    s.push(',');
                }
                let _ = write!(s, "{p}");
            }
            cells.push(s);
        }
        for c in &vcols {
            cells.push(
                v.fields
                    .iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, x)| x.clone())
                    .unwrap_or_default(),
            );
        }
        row(&mut out, cells);
    }
    out
}
