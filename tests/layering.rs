//! The crate's modules in dependency order (docs/layout.md): each module
//! uses only modules of an earlier layer, so there is no import cycle
//! between modules, and the two front ends (capi, plugin) never use each
//! other. Read from the source: every `crate::module` a file names, outside
//! comments.

const LAYERS: [&[&str]; 9] = [
    &["sys"],
    &["boundary", "atomic", "clock", "rng", "hash"],
    &["loader"],
    &["topics"],
    &["strategy"],
    &["config"],
    &["partitioner", "registry"],
    &["capi", "plugin"],
    &["process"],
];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("module {module} is in no layer of docs/layout.md"))
}

fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_uses_a_later_one() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut edges = 0;
    let mut bad = Vec::new();
    for path in all {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if rel == "lib.rs" {
            continue;
        }
        let module = rel.split(['/', '.']).next().unwrap().to_string();
        let own = layer(&module);
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let code = line.split("//").next().unwrap();
            for part in code.split("crate::").skip(1) {
                let used: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if used.is_empty() || used == module {
                    continue;
                }
                edges += 1;
                if layer(&used) >= own {
                    bad.push(format!("{rel} uses crate::{used}"));
                }
            }
        }
    }
    assert!(
        edges > 30,
        "only {edges} uses found: is the parser reading the source?"
    );
    assert!(
        bad.is_empty(),
        "uses that point up or sideways:\n{}",
        bad.join("\n")
    );
}
