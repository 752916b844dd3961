//! The rule book: effective-dated reference tables loaded from `config/rules/*.toml`.
//!
//! Every rate, threshold and schedule is a row with `valid_from`, optional
//! `valid_to` (last day in force, inclusive) and a non-empty `legal_basis`. A
//! computation picks the row in force on the request's `as_of`.
#![warn(clippy::float_arithmetic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::obligations::due::Deadlines;
use crate::obligations::relief::ReliefBook;
use crate::obligations::rule_types::{
    Change, ExtensionRule, FeeSchedule, GardenPondRule, HouseQualityTable, LandRentRule,
    LandTaxRule, LateInterestRule, LevyGeneralRule, PitInheritanceRule, PitTransferRule,
    RecognitionRule, RegistrationFeeRule,
};
use crate::obligations::rules_check::{check_tiers, invalid, ChangeCheck};

/// Loading or checking the reference data failed. Each variant names the table or file.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot parse {file}: {message}")]
    Parse { file: String, message: String },
    #[error("invalid table {table}: {message}")]
    Invalid { table: String, message: String },
}

/// One row of an effective-dated table.
#[derive(Debug, Clone, Deserialize)]
pub struct Row<T> {
    pub valid_from: NaiveDate,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    pub legal_basis: Vec<String>,
    #[serde(flatten)]
    pub values: T,
}

impl<T> Row<T> {
    fn covers(&self, date: NaiveDate) -> bool {
        self.valid_from <= date && self.valid_to.is_none_or(|to| date <= to)
    }
}

/// An effective-dated table: rows in ascending, non-overlapping validity order.
#[derive(Debug, Clone)]
pub struct Table<T> {
    pub name: String,
    pub rows: Vec<Row<T>>,
}

impl<T> Table<T> {
    /// The row in force on `date`, if any.
    pub fn pick(&self, date: NaiveDate) -> Option<&Row<T>> {
        self.rows.iter().find(|row| row.covers(date))
    }
}

/// The loaded reference data.
#[derive(Debug, Clone)]
pub struct RuleBook {
    changes: Vec<Change>,
    pub(crate) registration_fee: Table<RegistrationFeeRule>,
    pub(crate) pit_transfer: Table<PitTransferRule>,
    pub(crate) pit_inheritance_gift: Table<PitInheritanceRule>,
    pub(crate) levy_general: Table<LevyGeneralRule>,
    pub(crate) levy_garden_pond: Table<GardenPondRule>,
    pub(crate) levy_recognition: Table<RecognitionRule>,
    pub(crate) levy_extension: Table<ExtensionRule>,
    pub(crate) land_rent: Table<LandRentRule>,
    pub(crate) land_tax: Table<LandTaxRule>,
    pub(crate) late_interest: Table<LateInterestRule>,
    /// Keyed by province code.
    pub(crate) fee_schedules: BTreeMap<String, Table<FeeSchedule>>,
    /// Keyed by province code.
    pub(crate) house_quality: BTreeMap<String, Table<HouseQualityTable>>,
    pub(crate) reliefs: ReliefBook,
    pub(crate) deadlines: Deadlines,
}

const FILES: [&str; 11] = [
    "changes.toml",
    "registration_fee.toml",
    "pit.toml",
    "land_use_levy.toml",
    "land_rent.toml",
    "land_tax.toml",
    "late_interest.toml",
    "procedure_fees.toml",
    "house_quality.toml",
    "reliefs.toml",
    "deadlines.toml",
];

/// Every file of `config/rules/`, built into the binary: it runs from any working directory.
static BUILTIN_DIR: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/config/rules");

/// The text of a built-in rule file.
fn builtin_text(file: &str) -> Result<&'static str, RuleError> {
    BUILTIN_DIR
        .get_file(file)
        .and_then(|f| f.contents_utf8())
        .ok_or_else(|| RuleError::Invalid {
            table: file.to_owned(),
            message: "is not built into this binary".to_owned(),
        })
}

/// The texts of [`FILES`]: each from `dir` when the folder has that file, else built in.
fn load_texts(dir: Option<&Path>) -> Result<Vec<String>, RuleError> {
    let mut texts = Vec::with_capacity(FILES.len());
    for file in FILES {
        let path = dir.map(|d| d.join(file)).filter(|p| p.is_file());
        let text = match path {
            Some(path) => {
                std::fs::read_to_string(&path).map_err(|source| RuleError::Io { path, source })?
            }
            None => builtin_text(file)?.to_owned(),
        };
        texts.push(text);
    }
    Ok(texts)
}

#[derive(Deserialize)]
struct ChangesFile {
    change: Vec<Change>,
}
#[derive(Deserialize)]
struct RowsFile<T> {
    row: Vec<Row<T>>,
}
#[derive(Deserialize)]
struct PitFile {
    transfer: Vec<Row<PitTransferRule>>,
    inheritance_gift: Vec<Row<PitInheritanceRule>>,
}
#[derive(Deserialize)]
struct LevyFile {
    general: Vec<Row<LevyGeneralRule>>,
    garden_pond: Vec<Row<GardenPondRule>>,
    recognition: Vec<Row<RecognitionRule>>,
    extension: Vec<Row<ExtensionRule>>,
}
#[derive(Deserialize)]
struct FeesFile {
    #[serde(default)]
    schedule: Vec<Row<FeeSchedule>>,
}
#[derive(Deserialize)]
struct HouseQualityFile {
    #[serde(default)]
    table: Vec<Row<HouseQualityTable>>,
}

fn parse_file<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, RuleError> {
    toml::from_str(text).map_err(|e| RuleError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })
}

impl RuleBook {
    /// The reference data compiled into the binary from `config/rules/`.
    pub fn builtin() -> Result<RuleBook, RuleError> {
        Self::from_texts(&load_texts(None)?)
    }

    /// Loads the rule files of `dir` (the same names as `config/rules/`), each replacing the
    /// built-in file of its name; a file the folder lacks comes from the built-in set. An
    /// operator can so update one table without a rebuild.
    pub fn from_dir(dir: &Path) -> Result<RuleBook, RuleError> {
        if !dir.is_dir() {
            return Err(RuleError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
            });
        }
        Self::from_texts(&load_texts(Some(dir))?)
    }

    fn from_texts(texts: &[String]) -> Result<RuleBook, RuleError> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let sources: [&str; FILES.len()] = refs.try_into().map_err(|_| RuleError::Invalid {
            table: "config/rules".to_string(),
            message: "wrong number of rule files".to_string(),
        })?;
        Self::from_sources(sources)
    }

    fn from_sources(src: [&str; FILES.len()]) -> Result<RuleBook, RuleError> {
        let changes: ChangesFile = parse_file(FILES[0], src[0])?;
        let reg: RowsFile<RegistrationFeeRule> = parse_file(FILES[1], src[1])?;
        let pit: PitFile = parse_file(FILES[2], src[2])?;
        let levy: LevyFile = parse_file(FILES[3], src[3])?;
        let rent: RowsFile<LandRentRule> = parse_file(FILES[4], src[4])?;
        let tax: RowsFile<LandTaxRule> = parse_file(FILES[5], src[5])?;
        let late: RowsFile<LateInterestRule> = parse_file(FILES[6], src[6])?;
        let fees: FeesFile = parse_file(FILES[7], src[7])?;
        let quality: HouseQualityFile = parse_file(FILES[8], src[8])?;

        let check = ChangeCheck::new(&changes.change)?;
        let book = RuleBook {
            registration_fee: check.table("registration_fee.row", reg.row)?,
            pit_transfer: check.table("pit.transfer", pit.transfer)?,
            pit_inheritance_gift: check.table("pit.inheritance_gift", pit.inheritance_gift)?,
            levy_general: check.table("land_use_levy.general", levy.general)?,
            levy_garden_pond: check.table("land_use_levy.garden_pond", levy.garden_pond)?,
            levy_recognition: check.table("land_use_levy.recognition", levy.recognition)?,
            levy_extension: check.table("land_use_levy.extension", levy.extension)?,
            land_rent: check.table("land_rent.row", rent.row)?,
            land_tax: check.table("land_tax.row", tax.row)?,
            late_interest: check.table("late_interest.row", late.row)?,
            fee_schedules: check.by_province("procedure_fees.schedule", fees.schedule, |s| {
                s.province_code.clone()
            })?,
            house_quality: check.by_province("house_quality.table", quality.table, |t| {
                t.province_code.clone()
            })?,
            reliefs: ReliefBook::load(src[9], &check)?,
            deadlines: Deadlines::load(src[10], &check)?,
            changes: changes.change,
        };
        book.check_values()?;
        Ok(book)
    }

    /// The id of the latest rule-set change in force on `as_of` (`"VN-2026-07-01"`),
    /// or `None` before the first one (2022-03-01).
    pub fn rule_set_id(&self, as_of: NaiveDate) -> Option<String> {
        self.changes
            .iter()
            .rev()
            .find(|c| c.valid_from <= as_of)
            .map(|c| c.id.clone())
    }

    fn check_values(&self) -> Result<(), RuleError> {
        for row in &self.levy_garden_pond.rows {
            check_tiers(&self.levy_garden_pond.name, &row.values.tiers)?;
        }
        for row in &self.land_tax.rows {
            check_tiers(&self.land_tax.name, &row.values.residential_tiers)?;
        }
        for row in &self.land_rent.rows {
            if row.values.min_rate > row.values.max_rate {
                return Err(invalid(&self.land_rent.name, "min_rate above max_rate"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn builtin_loads_and_names_rule_sets() {
        let book = RuleBook::builtin().expect("builtin rules");
        assert_eq!(book.rule_set_id(date("2022-02-28")), None);
        assert_eq!(
            book.rule_set_id(date("2022-03-01")).as_deref(),
            Some("VN-2022-03-01")
        );
        assert_eq!(
            book.rule_set_id(date("2026-06-30")).as_deref(),
            Some("VN-2026-01-31")
        );
        assert_eq!(
            book.rule_set_id(date("2026-07-01")).as_deref(),
            Some("VN-2026-07-01")
        );
        assert_eq!(
            book.rule_set_id(date("2026-11-20")).as_deref(),
            Some("VN-2026-07-01")
        );
    }

    #[test]
    fn from_dir_reads_the_config_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rules");
        let book = RuleBook::from_dir(&dir).expect("rules from dir");
        assert!(book.fee_schedules.contains_key("01"));
        assert!(RuleBook::from_dir(Path::new("/nonexistent")).is_err());
    }

    #[test]
    fn a_file_of_the_rules_folder_replaces_only_its_built_in_namesake() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = builtin_text("late_interest.toml")
            .expect("built in")
            .replace("rate_per_day = \"0.0003\"", "rate_per_day = \"0.0005\"");
        std::fs::write(dir.path().join("late_interest.toml"), text).expect("write");
        let book = RuleBook::from_dir(dir.path()).expect("rules");
        let row = book.late_interest.pick(date("2026-11-20")).expect("row");
        assert_eq!(row.values.rate_per_day.to_string(), "0.0005");
        // Every other table is the built-in one.
        assert!(book.fee_schedules.contains_key("01"));
        assert_eq!(
            book.rule_set_id(date("2026-11-20")).as_deref(),
            Some("VN-2026-07-01")
        );
    }

    #[test]
    fn every_rule_file_of_the_source_tree_is_built_in() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/rules");
        for entry in std::fs::read_dir(dir).expect("config/rules") {
            let name = entry.expect("entry").file_name();
            let name = name.to_string_lossy();
            assert!(builtin_text(&name).is_ok(), "{name} is not built in");
        }
    }

    fn with_late_interest(rows: &str) -> Result<RuleBook, RuleError> {
        let texts = load_texts(None).expect("built-in rules");
        let mut src: [&str; FILES.len()] = [""; FILES.len()];
        for (slot, text) in src.iter_mut().zip(&texts) {
            *slot = text;
        }
        src[6] = rows;
        RuleBook::from_sources(src)
    }

    #[test]
    fn overlapping_periods_are_errors_naming_the_table() {
        let overlap = r#"
[[row]]
valid_from = "2022-03-01"
valid_to = "2026-07-01"
legal_basis = ["x"]
rate_per_day = "0.0003"
[[row]]
valid_from = "2026-07-01"
legal_basis = ["y"]
rate_per_day = "0.0003"
"#;
        let err = with_late_interest(overlap).expect_err("overlap");
        assert!(err.to_string().contains("late_interest.row"), "{err}");
        let open_then_more = overlap.replace("valid_to = \"2026-07-01\"\n", "");
        assert!(with_late_interest(&open_then_more).is_err());
        let unlisted = r#"
[[row]]
valid_from = "2023-05-05"
legal_basis = ["x"]
rate_per_day = "0.0003"
"#;
        assert!(with_late_interest(unlisted).is_err());
        let no_basis = r#"
[[row]]
valid_from = "2022-03-01"
legal_basis = []
rate_per_day = "0.0003"
"#;
        assert!(with_late_interest(no_basis).is_err());
    }

    #[test]
    fn picks_rows_by_date() {
        let book = RuleBook::builtin().expect("rules");
        let before = book
            .pit_inheritance_gift
            .pick(date("2026-06-30"))
            .expect("row");
        let after = book
            .pit_inheritance_gift
            .pick(date("2026-07-01"))
            .expect("row");
        assert_eq!(before.values.threshold.dong(), 10_000_000);
        assert_eq!(after.values.threshold.dong(), 20_000_000);
        let hanoi = &book.fee_schedules["01"];
        assert!(
            !hanoi
                .pick(date("2025-12-31"))
                .expect("2025")
                .values
                .online_free
        );
        assert!(
            hanoi
                .pick(date("2026-01-01"))
                .expect("2026")
                .values
                .online_free
        );
    }
}
