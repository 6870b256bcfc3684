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
        Self::from_csv_reader(text.as_bytes())
    }

    pub fn from_csv_reader<R: std::io::Read>(reader: R) -> Result<Dataset> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(reader);
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| QcaError::Csv(e.to_string()))?
            .iter()
            .map(|h| h.to_string())
            .collect();
        if headers.is_empty() {
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
        let mut columns: Vec<Vec<f64>> = vec![Vec::new(); column_names.len()];
        let mut case_names = Vec::new();
        for (idx, record) in rdr.records().enumerate() {
            let record = record.map_err(|e| QcaError::Csv(e.to_string()))?;
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
                record.get(0).unwrap_or_default().to_string()
            } else {
                (idx + 1).to_string()
            };
            for (c, col) in columns.iter_mut().enumerate() {
                let cell = record.get(c + first_data).unwrap_or_default();
                let value: f64 = cell
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite())
                    .ok_or_else(|| QcaError::NotNumeric {
                        column: column_names[c].clone(),
                        case: case.clone(),
                        line,
                        value: cell.to_string(),
                    })?;
                col.push(value);
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
