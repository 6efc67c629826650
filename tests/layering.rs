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

/// `text` without its comments.
fn code(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifier `s` starts with.
fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The names a path continues with: `{a, b}` or one name.
fn names(rest: &str) -> Vec<String> {
    match rest.strip_prefix('{') {
        Some(group) => group[..group.find('}').unwrap_or(group.len())]
            .split(',')
            .map(|i| ident(i.trim()))
            .collect(),
        None => vec![ident(rest)],
    }
}

/// The files (and subdirectories) of `dir` as nodes, and which uses which:
/// `super::x` or `crate::<dir>::x` naming a sibling `x`, or an item that
/// the directory's mod.rs re-exports from `x` (`pub use x::{...}`).
fn module_graph(dir: &str) -> (Vec<String>, Vec<(String, String)>) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let path = root.join(dir);
    let mut nodes = Vec::new();
    for e in std::fs::read_dir(&path).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if p.is_dir() || (p.extension().is_some_and(|x| x == "rs") && name != "mod") {
            nodes.push(name);
        }
    }
    // Items mod.rs re-exports, and from which file.
    let mut exported = std::collections::HashMap::new();
    let facade = code(&std::fs::read_to_string(path.join("mod.rs")).unwrap_or_default());
    // `pub use x::...` and `pub(in ...) use x::...`; `x::*` exports every
    // `pub` item that x declares.
    for line in facade
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("pub"))
    {
        let Some(at) = line.find(" use ") else {
            continue;
        };
        let part = &line[at + 5..];
        let from = ident(part.trim_start_matches("self::"));
        let rest = &part[part.find("::").map_or(part.len(), |i| i + 2)..];
        let items: Vec<String> = if rest.starts_with('*') {
            let file = std::fs::read_to_string(path.join(format!("{from}.rs"))).unwrap_or_default();
            let mut declared = Vec::new();
            for kw in ["fn ", "struct ", "enum ", "const ", "static ", "type "] {
                for (i, _) in file.match_indices(&format!("pub {kw}")) {
                    declared.push(ident(&file[i + 4 + kw.len()..]));
                }
                for (i, _) in file.match_indices(&format!("extern \"C\" {kw}")) {
                    declared.push(ident(&file[i + 11 + kw.len()..]));
                }
            }
            declared
        } else {
            names(rest)
        };
        for item in items.into_iter().filter(|i| !i.is_empty()) {
            exported.insert(item, from.clone());
        }
    }
    let prefix = format!("crate::{}::", dir.replace('/', "::"));
    let mut edges = Vec::new();
    for n in &nodes {
        let mut sources = Vec::new();
        let p = path.join(n);
        if p.is_dir() {
            files(&p, &mut sources);
        } else {
            sources.push(path.join(format!("{n}.rs")));
        }
        for f in sources {
            // Inside a subdirectory, `super::` is that subdirectory's own
            // mod.rs except in the mod.rs itself.
            let own_super =
                f.parent() == Some(path.as_path()) || f.file_name().unwrap() == "mod.rs";
            let text = code(&std::fs::read_to_string(&f).unwrap());
            let mut uses: Vec<&str> = text.split(prefix.as_str()).skip(1).collect();
            if own_super {
                uses.extend(text.split("super::").skip(1));
            } else {
                // In a subdirectory's other files, `super::super::` is
                // this module.
                uses.extend(text.split("super::super::").skip(1));
            }
            for u in uses {
                for name in names(u) {
                    let to = if nodes.contains(&name) {
                        Some(name)
                    } else {
                        exported.get(&name).cloned()
                    };
                    if let Some(to) = to.filter(|t| t != n) {
                        edges.push((n.clone(), to));
                    }
                }
            }
        }
    }
    edges.sort();
    edges.dedup();
    (nodes, edges)
}

/// The groups of nodes that reach each other (strongly connected, more
/// than one node), each sorted.
fn cycles(nodes: &[String], edges: &[(String, String)]) -> Vec<Vec<String>> {
    let reach = |from: &String| -> std::collections::HashSet<String> {
        let mut seen = std::collections::HashSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for (a, b) in edges {
                if *a == n && seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
        seen
    };
    let mut groups: Vec<Vec<String>> = Vec::new();
    for n in nodes {
        let r = reach(n);
        if !r.contains(n) {
            continue;
        }
        let mut g: Vec<String> = nodes
            .iter()
            .filter(|m| r.contains(*m) && reach(m).contains(n))
            .cloned()
            .collect();
        g.sort();
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    groups
}

/// Inside a module too, no two files use each other, directly or not:
/// what a topic's view holds (available, leaders, rack) is below the view;
/// the view and each feature's state (backlog, hot_keys, run) are below
/// the topic state that holds them, which is below the placement context,
/// which is below the strategies that place with it.
#[test]
fn no_import_cycle_between_the_files_of_a_module() {
    let mut found = Vec::new();
    let mut total = 0;
    let mut all = Vec::new();
    for dir in ["strategy", "strategy/backlog", "plugin", "capi"] {
        let (nodes, edges) = module_graph(dir);
        assert!(nodes.len() >= 2, "{dir}: {nodes:?}");
        total += edges.len();
        found.extend(cycles(&nodes, &edges));
        all.extend(edges.into_iter().map(|(a, b)| format!("{dir}: {a} -> {b}")));
    }
    // Uses the parser must see (plain, re-exported, restricted re-export).
    for known in [
        "strategy/backlog: load -> brokers",
        "strategy/backlog: load -> slow",
        "strategy/backlog: brokers -> slow",
        "strategy: state -> backlog",
        "strategy: usable -> ctx",
        "strategy: adaptive -> backlog",
    ] {
        assert!(
            all.iter().any(|e| e == known),
            "the parser missed {known}: {all:?}"
        );
    }
    assert!(
        total > 25,
        "only {total} uses found: is the parser reading the source?"
    );
    assert!(found.is_empty(), "import cycles: {found:?}");
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let n = |s: &str| s.to_string();
    let nodes = vec![n("a"), n("b"), n("c"), n("d")];
    let edges = vec![
        (n("a"), n("b")),
        (n("b"), n("c")),
        (n("c"), n("a")),
        (n("c"), n("d")),
    ];
    assert_eq!(cycles(&nodes, &edges), vec![vec![n("a"), n("b"), n("c")]]);
    assert!(cycles(&nodes, &edges[..2]).is_empty());
}

/// Each module's mod.rs is its top: it declares and uses its files, and
/// no file of the module uses an item that mod.rs itself defines (only
/// what mod.rs re-exports from another file), outside tests.
#[test]
fn no_file_uses_its_modules_mod_rs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let strip = |text: &str| code(text.split("#[cfg(test)]\nmod tests").next().unwrap());
    let mut bad = Vec::new();
    let (mut checked, mut found) = (0, 0);
    for dir in [
        "strategy",
        "strategy/backlog",
        "strategy/adaptive",
        "plugin",
        "capi",
        "config",
    ] {
        let path = root.join(dir);
        let facade = strip(&std::fs::read_to_string(path.join("mod.rs")).unwrap());
        let mut defined = Vec::new();
        for kw in [
            "fn ", "struct ", "enum ", "const ", "static ", "type ", "trait ",
        ] {
            for (i, _) in facade.match_indices(kw) {
                // Functions, constants and statics at the top level only
                // (a line's first word, after `pub`, `unsafe`, `extern
                // "C"`), not methods; types also when indented (declared
                // inside a macro, as `Strategy` is).
                let line = &facade[facade[..i].rfind('\n').map_or(0, |n| n + 1)..i];
                let top = !line.starts_with(char::is_whitespace);
                let a_type = ["struct ", "enum ", "type ", "trait "].contains(&kw);
                if (top || a_type) && !line.trim_start().contains(['{', '=', ';']) {
                    let name = ident(&facade[i + kw.len()..]);
                    // (`const fn x` is the function x, found as `fn `.)
                    if !name.is_empty() && name != "fn" {
                        defined.push(name);
                    }
                }
            }
        }
        // What each module's mod.rs must be found to define, so the
        // check is not empty where it matters.
        let must: &[&str] = match dir {
            "strategy" => &["Strategy", "acknowledged"],
            "plugin" => &["conf_init"],
            "config" => &["Config", "parse_int"],
            _ => &[],
        };
        for m in must {
            assert!(
                defined.iter().any(|d| d == m),
                "{dir}/mod.rs: {m} not found among {defined:?}"
            );
        }
        found += defined.len();
        let prefix = format!("crate::{}::", dir.replace('/', "::"));
        let mut files = Vec::new();
        self::files(&path, &mut files);
        files.retain(|p| *p != path.join("mod.rs"));
        for f in files {
            let text = strip(&std::fs::read_to_string(&f).unwrap());
            // `super::` is this mod.rs only in the directory's own files.
            let own = f.parent() == Some(path.as_path());
            let uses = text
                .split(prefix.as_str())
                .skip(1)
                .chain(text.split("super::").skip(1).filter(|_| own));
            for u in uses {
                for name in names(u) {
                    checked += 1;
                    if defined.contains(&name) {
                        bad.push(format!("{} uses {dir}/mod.rs's {name}", f.display()));
                    }
                }
            }
        }
    }
    assert!(
        checked > 30 && found > 30,
        "only {checked} uses and {found} items of mod.rs files read: is the parser reading the source?"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
