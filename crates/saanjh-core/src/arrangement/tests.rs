//! The arrangement checker as a specification: the built-in files pass, and
//! each kind of mistake an author can make is reported at its line.

use super::*;
use crate::BUILT_IN_ARRANGEMENTS;

fn cost_sharing() -> &'static str {
    BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "cost-sharing.toml")
        .unwrap()
        .1
}

fn errors_of(src: &str) -> Vec<Diagnostic> {
    Arrangement::parse(src).expect_err("the file should be refused")
}

#[test]
fn the_built_in_arrangements_are_valid() {
    for (name, src) in BUILT_IN_ARRANGEMENTS {
        let arr = Arrangement::parse(src).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(arr.warnings.is_empty(), "{name}: {:?}", arr.warnings);
        assert!(arr.creating_action().is_some());
    }
}

#[test]
fn a_toml_syntax_error_has_its_line_and_column() {
    let src = cost_sharing().replacen("version = 1", "version = = 1", 1);
    let errs = errors_of(&src);
    let line = src
        .lines()
        .position(|l| l.contains("version = = 1"))
        .unwrap()
        + 1;
    assert_eq!(errs[0].line, line, "{errs:?}");
    assert!(errs[0].column > 1);
}

#[test]
fn an_unknown_position_in_a_rule_is_named_at_its_line() {
    let src = cost_sharing().replacen(
        "attribute = \"council.works_engineer\"",
        "attribute = \"council.works_engineeer\"",
        1,
    );
    let errs = errors_of(&src);
    let line = src
        .lines()
        .position(|l| l.contains("works_engineeer"))
        .unwrap()
        + 1;
    assert!(
        errs.iter().any(|e| e.line == line
            && e.message
                .contains("`council.works_engineeer` is not a position")),
        "{errs:?}"
    );
}

#[test]
fn a_condition_that_does_not_parse_or_names_an_unknown_fact_is_refused() {
    let bad_syntax = cost_sharing().replacen(
        "paid('community') * 5 >= scheme.estimate",
        "paid('community') * >= scheme.estimate",
        1,
    );
    assert!(
        errors_of(&bad_syntax)
            .iter()
            .any(|e| e.message.contains("does not parse"))
    );
    let unknown = cost_sharing().replacen("paid('community') * 5", "bribes('community') * 5", 1);
    assert!(
        errors_of(&unknown)
            .iter()
            .any(|e| e.message.contains("bribes()"))
    );
    let misspelt_role = cost_sharing().replacen("paid('community') * 5", "paid('comunity') * 5", 1);
    assert!(
        errors_of(&misspelt_role)
            .iter()
            .any(|e| e.message.contains("`comunity` is not a partner role"))
    );
    let mixed = cost_sharing().replacen(
        "paid('community') * 5 >= scheme.estimate",
        "paid('community') >= 0.2 * scheme.estimate",
        1,
    );
    assert!(
        errors_of(&mixed)
            .iter()
            .any(|e| e.message.contains("whole paisa"))
    );
}

#[test]
fn a_stage_with_no_way_out_is_refused() {
    let src = cost_sharing().replacen(
        "final = [\"audited\", \"rejected\"]",
        "final = [\"rejected\"]",
        1,
    );
    let errs = errors_of(&src);
    assert!(
        errs.iter()
            .any(|e| e.message.contains("stage `audited` has no way out")),
        "{errs:?}"
    );
}

#[test]
fn shares_that_do_not_add_up_are_refused() {
    let lane = BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "component-sharing.toml")
        .unwrap()
        .1;
    let src = lane.replacen(
        "[payoff.trunk_sewer]\ngovernment = \"100%\"",
        "[payoff.trunk_sewer]\ngovernment = \"90%\"",
        1,
    );
    let errs = errors_of(&src);
    assert!(
        errs.iter()
            .any(|e| e.message.contains("do not add up to 100%")),
        "{errs:?}"
    );
}

#[test]
fn unknown_fields_are_refused_not_ignored() {
    let src = cost_sharing().replacen(
        "deontic = \"may\"",
        "deontic = \"may\"\nwhithin = \"3d\"",
        1,
    );
    let errs = errors_of(&src);
    assert!(errs[0].message.contains("whithin"), "{errs:?}");
}

#[test]
fn deadlines_belong_to_must_rules_only() {
    let src = cost_sharing().replacen(
        "deontic = \"may\"\naim = \"reject\"",
        "deontic = \"may\"\naim = \"reject\"\nwithin = \"3d\"",
        1,
    );
    assert!(
        errors_of(&src)
            .iter()
            .any(|e| e.message.contains("only a `must` rule can set a deadline"))
    );
}

#[test]
fn the_rules_read_back_in_plain_words() {
    let arr = Arrangement::parse(cost_sharing()).unwrap();
    let text = explain(&arr).to_text();
    assert!(text.contains("The works department engineer must vet the cost estimate within 15 days of the scheme becoming \"proposed\", or else the matter goes to the CCB official"), "{text}");
    assert!(text.contains("must not approve the project"));
    assert!(text.contains("The Citizen Community Board pays at least 20% of project works, deposited before anyone may approve the project."), "{text}");
    assert!(
        text.contains("To start executing the works needs the signatures of all of"),
        "{text}"
    );
}

fn water() -> &'static str {
    BUILT_IN_ARRANGEMENTS
        .iter()
        .find(|(n, _)| *n == "community-managed-water.toml")
        .unwrap()
        .1
}

/// The line (1-based) of the first line of `src` containing `needle`.
fn line_of(src: &str, needle: &str) -> usize {
    src.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn an_arrangement_defines_its_own_indicator_and_it_is_explained() {
    let arr = Arrangement::parse(water()).unwrap();
    let def = &arr.file.indicators["internal_share_pledged"];
    assert_eq!(def.condition.as_ref(), "community_willingness");
    let text = explain(&arr).to_text();
    assert!(
        text.contains("\"internal share pledged by households\"")
            && text.contains("a measure of community willingness")
            && text.contains("where `owed('community') > 0`")
            && text.contains("crossover at 0.7"),
        "{text}"
    );
}

#[test]
fn an_indicator_expression_that_does_not_parse_is_refused_at_its_line() {
    let src = water().replacen(
        "expression = \"double(pledged('community')) / double(owed('community'))\"",
        "expression = \"double(pledged('community')) / \"",
        1,
    );
    let errs = errors_of(&src);
    let line = line_of(&src, "expression = \"double(pledged('community')) / \"");
    assert!(
        errs.iter().any(|e| e.line == line
            && e.column == 14
            && e.message.contains("indicator `internal_share_pledged`")
            && e.message.contains("does not parse")),
        "{errs:?}"
    );
}

#[test]
fn an_indicator_naming_an_unknown_fact_or_key_is_refused() {
    let src = water().replacen("double(owed('community'))", "double(owing('community'))", 1);
    let errs = errors_of(&src);
    let line = line_of(&src, "owing('community')");
    assert!(
        errs.iter()
            .any(|e| e.line == line && e.message.contains("`owing()`, which is not a fact")),
        "{errs:?}"
    );
    // A fact that exists, asked about a role the arrangement does not have.
    let src = water().replacen("double(owed('community'))", "double(owed('comunity'))", 1);
    let errs = errors_of(&src);
    assert!(
        errs.iter()
            .any(|e| e.message.contains("`comunity` is not a partner role")),
        "{errs:?}"
    );
}

#[test]
fn an_indicator_must_give_a_number_feed_a_condition_and_have_ordered_anchors() {
    let not_number = water().replacen(
        "expression = \"double(pledged('community')) / double(owed('community'))\"",
        "expression = \"pledged('community') > 0\"",
        1,
    );
    assert!(
        errors_of(&not_number)
            .iter()
            .any(|e| e.message.contains("not a number")),
    );
    let bad_condition = water().replacen(
        "condition = \"community_willingness\"",
        "condition = \"happiness\"",
        1,
    );
    let errs = errors_of(&bad_condition);
    assert!(
        errs.iter()
            .any(|e| e.line == line_of(&bad_condition, "\"happiness\"")
                && e.message.contains("`happiness` is not a condition")),
        "{errs:?}"
    );
    let bad_anchors = water().replacen("anchors = [0.3, 0.7, 1.0]", "anchors = [0.3, 1.0, 0.7]", 1);
    assert!(
        errors_of(&bad_anchors)
            .iter()
            .any(|e| e.message.contains("out of order")),
    );
    let built_in_name = water().replacen(
        "[indicators.internal_share_pledged]",
        "[indicators.share_paid]",
        1,
    );
    assert!(
        errors_of(&built_in_name)
            .iter()
            .any(|e| e.message.contains("is a built-in indicator")),
    );
}
