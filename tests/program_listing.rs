//! Snapshot tests of the lowering: the compiled `Program` of each bench workflow, printed with
//! `{:#?}`, must equal its golden file in `tests/listings/`. A change to what `definition` or
//! `compile` produce shows up here as a diff to review.
//!
//! After an intended change, `UPDATE_LISTINGS=1 cargo test --test program_listing` rewrites the
//! golden files; commit them with the change that explains them.

use std::path::Path;

fn check(workflow: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let definition =
        std::fs::read_to_string(root.join(format!("benches/workflows/{workflow}.json")))
            .expect("the bench workflow is checked in");
    let program =
        expressway::compile::compile_text(&definition).expect("the bench workflow compiles");
    let listing = format!("{program:#?}\n");
    let golden = root.join(format!("tests/listings/{workflow}.txt"));
    if std::env::var_os("UPDATE_LISTINGS").is_some() {
        std::fs::write(&golden, &listing).expect("write the golden listing");
        return;
    }
    let expected = std::fs::read_to_string(&golden).expect("the golden listing is checked in");
    if listing != expected {
        let line = listing
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| listing.lines().count().min(expected.lines().count()));
        panic!(
            "{workflow}: the listing differs from {} from line {}:\n  got:      {:?}\n  expected: {:?}",
            golden.display(),
            line + 1,
            listing.lines().nth(line),
            expected.lines().nth(line)
        );
    }
}

#[test]
fn w1_pass_chain() {
    check("w1_pass_chain");
}

#[test]
fn w1_jsonata() {
    check("w1_jsonata");
}

#[test]
fn w2_choice() {
    check("w2_choice");
}

#[test]
fn w3_map100() {
    check("w3_map100");
}

#[test]
fn w4_parallel() {
    check("w4_parallel");
}

#[test]
fn w5_credit() {
    check("w5_credit");
}
