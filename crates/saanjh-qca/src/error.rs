//! Errors a researcher can cause with their data or options.
//!
//! Every variant names the cell, column or option at fault, because the
//! person reading the message has a spreadsheet open and needs to know where
//! to look.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum QcaError {
    #[error("CSV: {0}")]
    Csv(String),
    #[error("cell in column `{column}`, case `{case}` (line {line}): `{value}` is not a number")]
    NotNumeric {
        column: String,
        case: String,
        line: usize,
        value: String,
    },
    #[error("column `{0}` is not in the data (columns are: {1})")]
    MissingColumn(String, String),
    #[error(
        "column `{column}`, case `{case}`: set membership {value} is outside [0, 1] \
         (calibrate it first, or use whole numbers 0, 1, 2… for a multi-value condition)"
    )]
    OutOfRange {
        column: String,
        case: String,
        value: f64,
    },
    #[error("condition `{0}` is also the outcome")]
    ConditionIsOutcome(String),
    #[error("condition `{0}` is given twice")]
    DuplicateCondition(String),
    #[error("option {option}: {message}")]
    BadOption { option: String, message: String },
    #[error("{0}")]
    EmptyTruthTable(String),
    #[error("{0}")]
    TooLarge(String),
}

impl QcaError {
    pub fn option(option: &str, message: impl Into<String>) -> Self {
        QcaError::BadOption {
            option: option.to_string(),
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, QcaError>;
