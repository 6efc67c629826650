//! Every list of strategies and properties agrees with the one declaration
//! (`Strategy::ALL` in src/strategy/mod.rs, `PROPERTIES` in src/config/),
//! which the library exports (`rdpart_strategy_name()`,
//! `rdpart_declarations()`): the exported callbacks and the header, the
//! README's tables, the property list in rdpart_conf_set's documentation,
//! and the list the Makefile reads from the built library through the
//! Python package (which keeps none of its own), for make demo and the
//! test command.

mod common;
use rdpart::config::PROPERTIES;
use rdpart::strategy::Strategy;

fn read(path: &str) -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn names() -> Vec<&'static str> {
    Strategy::ALL.iter().map(|s| s.name()).collect()
}

#[test]
fn one_exported_callback_per_strategy() {
    let callbacks: Vec<&str> = common::CALLBACKS.iter().map(|(n, _)| *n).collect();
    assert_eq!(callbacks, names());
    let header = read("include/rdpart.h");
    let declared: Vec<&str> = header
        .lines()
        .filter_map(|l| l.strip_prefix("int32_t rdpart_"))
        .filter_map(|l| l.split('(').next())
        .filter(|n| *n != "partition")
        .collect();
    assert_eq!(declared, names(), "the header's callbacks");
}

#[test]
fn the_python_package_keeps_no_list_of_its_own() {
    // rdpart.STRATEGIES is read from the library (rdpart_strategy_name());
    // `make strategies` prints it (the next test).
    let py = read("examples-python/rdpart/__init__.py");
    assert!(
        !py.contains("STRATEGIES = ("),
        "a literal list in __init__.py"
    );
    assert!(py.contains("rdpart_strategy_name"));
}

#[test]
fn the_readme_and_the_header_describe_every_strategy() {
    let readme = read("README.md");
    for n in names() {
        let row = format!("| `{n}` |");
        assert_eq!(
            readme.matches(&row).count(),
            2,
            "{n}: a row in each strategy table"
        );
    }
    let header = read("include/rdpart.h");
    let doc = &header[header.find(" * - `strategy`: ").unwrap()..];
    let doc = &doc[..doc.find("(default sticky)").unwrap()];
    let listed: Vec<String> = doc[" * - `strategy`: ".len()..]
        .replace(" * ", " ")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    assert_eq!(listed, names(), "rdpart_conf_set's strategy list");
}

#[test]
fn the_demo_and_the_test_command_run_every_strategy() {
    // The library this test was built with: cargo leaves the cdylib beside
    // the test binary (target/<profile>/deps).
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    assert!(deps.join("librdpart.so").is_file(), "{}", deps.display());
    let out = std::process::Command::new("make")
        .args(["-s", "--no-print-directory", "strategies"])
        .arg(format!("REL={}", deps.display()))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("make");
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(listed.split_whitespace().collect::<Vec<_>>(), names());
    assert!(read("Makefile").contains("rdpart.STRATEGIES"));
    assert!(read("Makefile").contains("for s in $$($(MAKE) -s --no-print-directory strategies)"));
    assert!(read("tests/run_all.sh").contains("$(make -s --no-print-directory strategies)"));
}

#[test]
fn the_header_and_the_readme_describe_every_property() {
    let header = read("include/rdpart.h");
    let readme = read("README.md");
    let doc = &header[header.find(" * Properties:").unwrap()..];
    let doc = &doc[..doc.find(" * Returns RD_KAFKA_CONF_OK").unwrap()];
    let listed: Vec<&str> = doc
        .lines()
        .filter_map(|l| l.strip_prefix(" * - `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let declared: Vec<&str> = PROPERTIES.iter().map(|p| p.name).collect();
    assert_eq!(listed, declared, "rdpart_conf_set's property list");
    for p in PROPERTIES {
        let item = &doc[doc.find(&format!(" * - `{}`", p.name)).unwrap()..];
        let item = &item[..item[3..].find(" * - `").map_or(item.len(), |i| i + 3)];
        let default = if p.default.is_empty() {
            "(default: none)".to_string()
        } else {
            format!("(default {})", p.default)
        };
        assert!(
            item.replace("\n *  ", "").contains(&default),
            "{}: the header says {item:?}, not {default}",
            p.name
        );
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `rdpart.{}` |", p.name)))
            .unwrap_or_else(|| panic!("no README row for rdpart.{}", p.name));
        let shown = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        let want = if p.default.is_empty() {
            "none".to_string()
        } else {
            p.default.to_string()
        };
        assert_eq!(shown.trim_matches('`'), want, "README: {row}");
    }
}
