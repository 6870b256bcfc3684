//! Raw data: a table of cases (rows) by columns, read from CSV text.
//!
//! The first column holds case names when its header is empty (the way R's
//! `write.csv` and most QCA data sets are laid out); otherwise cases are
//! numbered from 1. Every other cell must be a number: QCA has no notion of
//! a missing membership, so a blank or `NA` is an error naming the cell.

use crate::error::{QcaError, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub case_names: Vec<String>,
    pub column_names: Vec<String>,
    /// Column-major: `columns[c][i]` is case `i`'s value on column `c`.
    pub columns: Vec<Vec<f64>>,
}

impl Dataset {
    /// Reads CSV text (comma-separated, with a header row).
    pub fn from_csv_str(text: &str) -> Result<Dataset> {
        Self::from_csv_bytes(text.as_bytes())
    }

    /// Reads CSV from any reader (all of it, then [`Dataset::from_csv_bytes`]).
    pub fn from_csv_reader<R: std::io::Read>(mut reader: R) -> Result<Dataset> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| QcaError::Csv(e.to_string()))?;
        Self::from_csv_bytes(&bytes)
    }

    /// Reads CSV bytes. A file without a double quote anywhere (what
    /// numeric QCA data written by R, Python or a spreadsheet usually is)
    /// is split on commas and newlines directly; any other file goes
    /// through the `csv` crate's full parser, records read as bytes into
    /// one reused buffer. Either way numbers are parsed in place, so a
    /// large file costs one pass and no allocation per cell: only the
    /// case names are kept as strings.
    pub fn from_csv_bytes(bytes: &[u8]) -> Result<Dataset> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.contains(&b'"') {
            Self::from_quoted_csv(bytes)
        } else {
            Self::from_plain_csv(bytes)
        }
    }

    fn from_plain_csv(bytes: &[u8]) -> Result<Dataset> {
        // Header: the first non-empty line.
        let mut pos = 0usize;
        let mut line_no = 0usize;
        let header = loop {
            if pos >= bytes.len() {
                return Err(QcaError::Csv("the file has no header row".into()));
            }
            let end = line_end(bytes, pos);
            line_no += 1;
            let l = &bytes[pos..end];
            pos = end + 1;
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            if !l.is_empty() {
                break l;
            }
        };
        let headers: Vec<String> = header
            .split(|&b| b == b',')
            .map(|h| {
                std::str::from_utf8(h.trim_ascii())
                    .map(str::to_string)
                    .map_err(|_| QcaError::Csv("the header row is not valid UTF-8".into()))
            })
            .collect::<Result<_>>()?;
        let (named_cases, column_names) = check_header(&headers)?;
        let width = headers.len();
        let n_cols = column_names.len();
        // Rough case count from the header's length, to size the columns once.
        let guess = bytes.len() / (header.len() + 1).max(1);
        let mut columns: Vec<Vec<f64>> = vec![Vec::with_capacity(guess); n_cols];
        let mut case_names: Vec<String> = Vec::with_capacity(guess);
        // One pass: each field is found and parsed where it lies.
        while pos < bytes.len() {
            let end = line_end(bytes, pos);
            line_no += 1;
            let line = &bytes[pos..end];
            pos = end + 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            let mut at = 0usize;
            let case = if named_cases {
                let e = field_end(line, at);
                let raw = line[at..e].trim_ascii();
                at = e + 1;
                std::str::from_utf8(raw)
                    .map_err(|_| {
                        QcaError::Csv(format!("line {line_no}: the case name is not valid UTF-8"))
                    })?
                    .to_string()
            } else {
                (case_names.len() + 1).to_string()
            };
            for (c, col) in columns.iter_mut().enumerate() {
                if at > line.len() {
                    return Err(cells_error(line_no, line, width));
                }
                let e = field_end(line, at);
                let cell = line[at..e].trim_ascii();
                at = e + 1;
                match parse_number(cell) {
                    Some(v) => col.push(v),
                    None => {
                        if line.iter().filter(|&&b| b == b',').count() + 1 != width {
                            return Err(cells_error(line_no, line, width));
                        }
                        return Err(QcaError::NotNumeric {
                            column: column_names[c].clone(),
                            case,
                            line: line_no,
                            value: String::from_utf8_lossy(cell).into_owned(),
                        });
                    }
                }
            }
            if at <= line.len() {
                return Err(cells_error(line_no, line, width));
            }
            case_names.push(case);
        }
        if case_names.is_empty() {
            return Err(QcaError::Csv("the file has a header but no cases".into()));
        }
        Ok(Dataset {
            case_names,
            column_names,
            columns,
        })
    }

    fn from_quoted_csv(bytes: &[u8]) -> Result<Dataset> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(bytes);
        let headers: Vec<String> = rdr
            .byte_headers()
            .map_err(|e| QcaError::Csv(e.to_string()))?
            .iter()
            .map(|h| {
                std::str::from_utf8(h.trim_ascii())
                    .map(str::to_string)
                    .map_err(|_| QcaError::Csv("the header row is not valid UTF-8".into()))
            })
            .collect::<Result<_>>()?;
        let (named_cases, column_names) = check_header(&headers)?;
        let first_data = usize::from(named_cases);
        let mut columns: Vec<Vec<f64>> = vec![Vec::new(); column_names.len()];
        let mut case_names = Vec::new();
        let mut record = csv::ByteRecord::new();
        let mut idx = 0usize;
        while rdr
            .read_byte_record(&mut record)
            .map_err(|e| QcaError::Csv(e.to_string()))?
        {
            let line = record
                .position()
                .map(|p| p.line() as usize)
                .unwrap_or(idx + 2);
            if record.len() != headers.len() {
                return Err(QcaError::Csv(format!(
                    "line {line} has {} cells, the header has {}",
                    record.len(),
                    headers.len()
                )));
            }
            let case = if named_cases {
                let raw = record.get(0).unwrap_or_default().trim_ascii();
                std::str::from_utf8(raw)
                    .map_err(|_| {
                        QcaError::Csv(format!("line {line}: the case name is not valid UTF-8"))
                    })?
                    .to_string()
            } else {
                (idx + 1).to_string()
            };
            for (c, col) in columns.iter_mut().enumerate() {
                let cell = record.get(c + first_data).unwrap_or_default().trim_ascii();
                match parse_number(cell) {
                    Some(v) => col.push(v),
                    None => {
                        return Err(QcaError::NotNumeric {
                            column: column_names[c].clone(),
                            case,
                            line,
                            value: String::from_utf8_lossy(cell).into_owned(),
                        });
                    }
                }
            }
            case_names.push(case);
            idx += 1;
        }
        if case_names.is_empty() {
            return Err(QcaError::Csv("the file has a header but no cases".into()));
        }
        Ok(Dataset {
            case_names,
            column_names,
            columns,
        })
    }

    pub fn n_cases(&self) -> usize {
        self.case_names.len()
    }

    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.column_names
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| QcaError::MissingColumn(name.to_string(), self.column_names.join(", ")))
    }

    pub fn column(&self, name: &str) -> Result<&[f64]> {
        Ok(&self.columns[self.column_index(name)?])
    }

    pub fn column_mut(&mut self, name: &str) -> Result<&mut Vec<f64>> {
        let i = self.column_index(name)?;
        Ok(&mut self.columns[i])
    }

    /// Keeps only the given cases (by position), e.g. to shuffle or subset.
    pub fn select_cases(&self, order: &[usize]) -> Dataset {
        Dataset {
            case_names: order.iter().map(|&i| self.case_names[i].clone()).collect(),
            column_names: self.column_names.clone(),
            columns: self
                .columns
                .iter()
                .map(|col| order.iter().map(|&i| col[i]).collect())
                .collect(),
        }
    }
}

/// Index of the next `\n` at or after `from`, or the end.
#[inline]
fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| from + p)
}

/// Index of the next `,` at or after `from` within a line, or its end.
#[inline]
fn field_end(line: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < line.len() && line[i] != b',' {
        i += 1;
    }
    i
}

/// Whether the first column holds case names (an empty header), and the
/// names of the data columns, which must be non-empty and distinct.
fn check_header(headers: &[String]) -> Result<(bool, Vec<String>)> {
    if headers.is_empty() || headers.iter().all(String::is_empty) && headers.len() == 1 {
        return Err(QcaError::Csv("the file has no header row".into()));
    }
    let named_cases = headers[0].is_empty();
    let first_data = usize::from(named_cases);
    let column_names: Vec<String> = headers[first_data..].to_vec();
    for (i, name) in column_names.iter().enumerate() {
        if name.is_empty() {
            return Err(QcaError::Csv(format!(
                "column {} has an empty header",
                i + 1 + first_data
            )));
        }
        if column_names[..i].contains(name) {
            return Err(QcaError::Csv(format!(
                "column `{name}` appears twice in the header"
            )));
        }
    }
    Ok((named_cases, column_names))
}

fn cells_error(line: usize, text: &[u8], width: usize) -> QcaError {
    let cells = text.iter().filter(|&&b| b == b',').count() + 1;
    QcaError::Csv(format!(
        "line {line} has {cells} cells, the header has {width}"
    ))
}

/// A finite number from a cell. Plain decimals with at most 15 significant
/// digits (what QCA data holds: `0.83`, `1`, `-12.5`) take a fast path: the
/// digits as an integer m < 2^53 and m / 10^d are both exact, so the one
/// division is correctly rounded and equals what the standard parser
/// gives. Anything else (exponents, long mantissas, `inf`) goes to the
/// standard parser; non-finite values are refused.
#[inline]
pub fn parse_number(cell: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (neg, b) = match cell.first() {
        Some(b'-') => (true, &cell[1..]),
        Some(b'+') => (false, &cell[1..]),
        _ => (false, cell),
    };
    let mut m: u64 = 0;
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        m = m.wrapping_mul(10).wrapping_add(u64::from(b[i] - b'0'));
        i += 1;
    }
    let int_digits = i;
    let mut frac = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            m = m.wrapping_mul(10).wrapping_add(u64::from(b[i] - b'0'));
            i += 1;
        }
        frac = i - start;
    }
    let digits = int_digits + frac;
    if i == b.len() && digits > 0 && digits <= 15 {
        let v = m as f64 / POW10[frac];
        return Some(if neg { -v } else { v });
    }
    std::str::from_utf8(cell)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::parse_number;

    #[test]
    fn fast_path_equals_the_standard_parser() {
        let cases = [
            "0",
            "1",
            "0.5",
            "0.123",
            "-0.45",
            "+3.25",
            "123456.789012345",
            "0.1",
            "0.7",
            "0.9999",
            "1.",
            ".5",
            "999999999999999",
            "0.000000000000001",
            "12.5",
        ];
        for c in cases {
            assert_eq!(parse_number(c.as_bytes()), c.parse::<f64>().ok(), "{c}");
        }
        // Every three-decimal membership, as the benchmark data holds.
        for i in 0..=1000 {
            let c = format!("{}", f64::from(i) / 1000.0);
            assert_eq!(parse_number(c.as_bytes()), c.parse::<f64>().ok(), "{c}");
        }
        for c in ["1e3", "1.5E-2", "12345678901234567890.5"] {
            assert_eq!(parse_number(c.as_bytes()), c.parse::<f64>().ok(), "{c}");
        }
        for bad in ["", "-", ".", "abc", "NA", "1.2.3", "inf", "NaN", "1,5"] {
            assert_eq!(parse_number(bad.as_bytes()), None, "{bad}");
        }
    }
}
