//! Turns criterion's results for the `decode`, `roundtrip` and `handshake`
//! benches into markdown tables (printed, and written between the
//! `<!-- bench-report:begin -->` / `<!-- bench-report:end -->` markers of
//! `docs/benchmarks.md`) and a hand-written SVG bar chart,
//! `docs/benchmarks.svg`.
//!
//! ```sh
//! cargo bench -p wsproto-tools --bench decode --bench roundtrip --bench handshake
//! cargo run --release -p wsproto-tools --bin bench_report
//! ```
//!
//! It reads `target/criterion/<group>/<bench>/new/{benchmark,estimates}.json`
//! (the median of the latest run of each) with a few string searches, so it
//! needs no JSON or plotting dependency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// One benchmark's latest median.
#[derive(Clone, Debug)]
struct Measured {
    /// Median time per iteration, in nanoseconds.
    median_ns: f64,
    /// Bytes per iteration, when the group declared a throughput.
    bytes: Option<u64>,
}

/// group -> function -> result.
type Results = BTreeMap<String, BTreeMap<String, Measured>>;

fn main() {
    // The workspace root: this crate is `tools/` in it.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tools/ is inside the workspace");
    let criterion = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/criterion"));
    let results = read_results(&criterion);
    if results.is_empty() {
        eprintln!(
            "no results under {}: run `cargo bench -p wsproto-tools --bench decode --bench roundtrip --bench handshake` first",
            criterion.display()
        );
        std::process::exit(1);
    }

    let mut md = String::new();
    machine(&mut md);
    decode_tables(&results, &mut md);
    roundtrip_table(&results, &mut md);
    handshake_table(&results, &mut md);
    targets(&results, &mut md);
    print!("{md}");

    let doc = root.join("docs/benchmarks.md");
    if let Ok(text) = fs::read_to_string(&doc) {
        const BEGIN: &str = "<!-- bench-report:begin -->";
        const END: &str = "<!-- bench-report:end -->";
        if let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) {
            let updated = format!("{}{BEGIN}\n\n{md}\n{}", &text[..b], &text[e..]);
            fs::write(&doc, updated).expect("write docs/benchmarks.md");
            eprintln!("updated {}", doc.display());
        }
    }
    let svg_path = root.join("docs/benchmarks.svg");
    fs::write(&svg_path, svg(&results)).expect("write docs/benchmarks.svg");
    eprintln!("wrote {}", svg_path.display());
}

// ----- reading criterion's output --------------------------------------

fn read_results(dir: &Path) -> Results {
    let mut results = Results::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == "new") {
                if let Some((group, function, result)) = read_one(&path) {
                    results.entry(group).or_default().insert(function, result);
                }
            } else if path.file_name().is_none_or(|n| n != "report") {
                stack.push(path);
            }
        }
    }
    results.retain(|group, _| {
        ["decode_", "roundtrip_", "handshake_"]
            .iter()
            .any(|p| group.starts_with(p))
    });
    results
}

fn read_one(new: &Path) -> Option<(String, String, Measured)> {
    let benchmark = fs::read_to_string(new.join("benchmark.json")).ok()?;
    let estimates = fs::read_to_string(new.join("estimates.json")).ok()?;
    let group = json_string(&benchmark, "group_id")?;
    let function = json_string(&benchmark, "function_id")?;
    let bytes = json_number(&benchmark, "\"Bytes\":").map(|b| b as u64);
    let median = &estimates[estimates.find("\"median\"")?..];
    let median_ns = json_number(median, "\"point_estimate\":")?;
    Some((group, function, Measured { median_ns, bytes }))
}

fn json_string(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = text[at..].find('"')?;
    Some(text[at..at + end].to_string())
}

fn json_number(text: &str, key: &str) -> Option<f64> {
    let at = text.find(key)? + key.len();
    let rest = text[at..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

// ----- the tables ------------------------------------------------------

fn machine(md: &mut String) {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let _ = writeln!(
        md,
        "Machine: {cpu}, {cores} cores available; {rustc}; default target (no `target-cpu=native`).\n"
    );
}

/// Frames per buffer, from a group name such as `decode_16B_x10000`.
fn frames_in(group: &str) -> Option<f64> {
    group.rsplit_once("_x")?.1.parse().ok()
}

fn gbps(r: &Measured) -> Option<f64> {
    r.bytes.map(|b| b as f64 / r.median_ns)
}

fn decode_tables(results: &Results, md: &mut String) {
    for (group, runs) in results.iter().filter(|(g, _)| g.starts_with("decode_")) {
        let frames = frames_in(group).unwrap_or(1.0);
        let ours = runs.get("wsproto_frame");
        let xor = runs.get("xor_inplace");
        let copy = runs.get("copy_from_slice");
        let _ = writeln!(md, "#### `{group}` (server role, masked text frames)\n");
        let _ = writeln!(
            md,
            "| entry | median per buffer | ns/frame | GB/s (wire) | vs `xor_inplace` | vs `copy_from_slice` | `wsproto_frame` is faster by |"
        );
        let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
        for name in order(runs) {
            let r = &runs[name];
            let ratio = |anchor: Option<&Measured>| {
                anchor.map_or("".into(), |a| format!("{:.2}x", a.median_ns / r.median_ns))
            };
            let _ = writeln!(
                md,
                "| `{name}` | {} | {:.1} | {} | {} | {} | {} |",
                human_ns(r.median_ns),
                r.median_ns / frames,
                gbps(r).map_or("".into(), |g| format!("{g:.2}")),
                ratio(xor),
                ratio(copy),
                ours.map_or("".into(), |o| format!("{:.2}x", r.median_ns / o.median_ns)),
            );
        }
        let _ = writeln!(md);
    }
}

fn roundtrip_table(results: &Results, md: &mut String) {
    let groups: Vec<_> = results
        .iter()
        .filter(|(g, _)| g.starts_with("roundtrip_"))
        .collect();
    if groups.is_empty() {
        return;
    }
    let _ = writeln!(md, "#### Round trip (client → server → echo → client)\n");
    let _ = writeln!(
        md,
        "| message | wsproto | tungstenite | fastwebsockets | wsproto GB/s | vs tungstenite | vs fastwebsockets |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    let mut groups = groups;
    groups.sort_by_key(|(g, runs)| {
        (
            g.contains("binary"),
            runs.values().next().and_then(|r| r.bytes),
        )
    });
    for (group, runs) in groups {
        let cell = |n: &str| runs.get(n).map_or("".into(), |r| human_ns(r.median_ns));
        let vs = |n: &str| match (runs.get("wsproto"), runs.get(n)) {
            (Some(o), Some(p)) => format!("{:.2}x", p.median_ns / o.median_ns),
            _ => "".into(),
        };
        let label = group.trim_start_matches("roundtrip_").replace('_', " ");
        let _ = writeln!(
            md,
            "| {label} | {} | {} | {} | {} | {} | {} |",
            cell("wsproto"),
            cell("tungstenite"),
            cell("fastwebsockets"),
            runs.get("wsproto")
                .and_then(gbps)
                .map_or("".into(), |g| format!("{g:.2}")),
            vs("tungstenite"),
            vs("fastwebsockets"),
        );
    }
    let _ = writeln!(
        md,
        "\n\"vs\" is the peer's median over ours: above 1 means this crate is faster.\n"
    );
}

fn handshake_table(results: &Results, md: &mut String) {
    for (group, runs) in results.iter().filter(|(g, _)| g.starts_with("handshake_")) {
        let _ = writeln!(
            md,
            "#### `{group}` (server: parse, validate, 101 response)\n"
        );
        let _ = writeln!(md, "| entry | median | `wsproto` is faster by |");
        let _ = writeln!(md, "|---|---:|---:|");
        let ours = runs.get("wsproto");
        for name in order(runs) {
            let r = &runs[name];
            let _ = writeln!(
                md,
                "| `{name}` | {} | {} |",
                human_ns(r.median_ns),
                ours.map_or("".into(), |o| format!("{:.2}x", r.median_ns / o.median_ns)),
            );
        }
        let _ = writeln!(md);
    }
}

/// The issue's targets, judged on this run.
fn targets(results: &Results, md: &mut String) {
    let get = |g: &str, f: &str| results.get(g).and_then(|r| r.get(f));
    let _ = writeln!(md, "#### Targets (same-run ratios)\n");
    let _ = writeln!(md, "| target | figure | |");
    let _ = writeln!(md, "|---|---:|---|");
    let mut row =
        |what: &str, figure: Option<f64>, fmt: &dyn Fn(f64) -> String, ok: &dyn Fn(f64) -> bool| {
            let (fig, verdict) = match figure {
                Some(v) => (fmt(v), if ok(v) { "met" } else { "**missed**" }),
                None => ("not measured".into(), ""),
            };
            let _ = writeln!(md, "| {what} | {fig} | {verdict} |");
        };
    let small = "decode_16B_x10000";
    let large = "decode_64KiB_x100";
    let per_frame = |f: &str| get(small, f).map(|r| r.median_ns / 10_000.0);
    let ns = |v: f64| format!("{v:.1} ns/frame");
    row(
        "16 B frames, decode + unmask ≤ 10 ns/frame",
        per_frame("wsproto_frame"),
        &ns,
        &|v| v <= 10.0,
    );
    row(
        "16 B frames, + UTF-8 ≤ 17 ns/frame",
        per_frame("wsproto_frame_utf8"),
        &ns,
        &|v| v <= 17.0,
    );
    let vs_xor = |f: &str| match (get(large, f), get(large, "xor_inplace")) {
        (Some(r), Some(x)) => Some(x.median_ns / r.median_ns),
        _ => None,
    };
    let x = |v: f64| format!("{v:.2}x xor_inplace");
    row(
        "64 KiB frames, decode + unmask ≥ 0.9x in-place XOR",
        vs_xor("wsproto_frame"),
        &x,
        &|v| v >= 0.9,
    );
    row(
        "64 KiB frames, + UTF-8 ≥ 0.8x in-place XOR",
        vs_xor("wsproto_frame_utf8"),
        &x,
        &|v| v >= 0.8,
    );
    let worst = |peer: &str| {
        results
            .iter()
            .filter(|(g, _)| g.starts_with("roundtrip_"))
            .filter_map(|(g, runs)| {
                Some((
                    runs.get(peer)?.median_ns / runs.get("wsproto")?.median_ns,
                    g.clone(),
                ))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
    };
    let t = worst("tungstenite");
    let f = worst("fastwebsockets");
    let _ = writeln!(
        md,
        "| round trip ≥ 2x tungstenite on every case | worst {} | {} |",
        t.as_ref()
            .map_or("-".into(), |(v, g)| format!("{v:.2}x ({g})")),
        t.as_ref()
            .map_or("", |(v, _)| if *v >= 2.0 { "met" } else { "**missed**" }),
    );
    let _ = writeln!(
        md,
        "| round trip ≥ 1x fastwebsockets on every case | worst {} | {} |",
        f.as_ref()
            .map_or("-".into(), |(v, g)| format!("{v:.2}x ({g})")),
        f.as_ref()
            .map_or("", |(v, _)| if *v >= 1.0 { "met" } else { "**missed**" }),
    );
    let _ = writeln!(md);
}

/// Anchors first, then this crate, then the peers.
fn order(runs: &BTreeMap<String, Measured>) -> Vec<&str> {
    let rank = |n: &str| match n {
        "copy_from_slice" | "xor_inplace" => 0,
        n if n.starts_with("wsproto") => 1,
        _ => 2,
    };
    let mut names: Vec<&str> = runs.keys().map(String::as_str).collect();
    names.sort_by_key(|n| (rank(n), *n));
    names
}

fn human_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

// ----- the chart -------------------------------------------------------

fn svg(results: &Results) -> String {
    const WIDTH: f64 = 900.0;
    const LABEL: f64 = 190.0;
    const BAR: f64 = 16.0;
    const GAP: f64 = 4.0;
    const HEAD: f64 = 34.0;
    let plot = WIDTH - LABEL - 130.0;

    let mut body = String::new();
    let mut y = 50.0;
    let mut groups: Vec<_> = results.iter().collect();
    groups.sort_by_key(|(g, runs)| {
        let kind = [
            "decode_",
            "roundtrip_text",
            "roundtrip_binary",
            "handshake_",
        ]
        .iter()
        .position(|p| g.starts_with(p))
        .unwrap_or(9);
        (kind, runs.values().next().and_then(|r| r.bytes))
    });
    for (group, runs) in groups {
        let (unit, scale) = if let Some(frames) = frames_in(group) {
            ("ns/frame", 1.0 / frames)
        } else {
            ("", 1.0)
        };
        let max = runs
            .values()
            .map(|r| r.median_ns * scale)
            .fold(0.0, f64::max);
        let _ = writeln!(
            body,
            r#"<text x="10" y="{:.0}" class="group">{}</text>"#,
            y + 20.0,
            escape(group)
        );
        y += HEAD;
        for name in order(runs) {
            let v = runs[name].median_ns * scale;
            let w = (v / max * plot).max(1.0);
            let class = match name {
                "copy_from_slice" | "xor_inplace" => "anchor",
                n if n.starts_with("wsproto") => "ours",
                _ => "peer",
            };
            let value = if unit.is_empty() {
                human_ns(v)
            } else {
                format!("{v:.1} {unit}")
            };
            let _ = writeln!(
                body,
                r#"<text x="{:.0}" y="{:.0}" class="label">{}</text><rect x="{LABEL:.0}" y="{y:.0}" width="{w:.1}" height="{BAR:.0}" class="{class}"/><text x="{:.1}" y="{:.0}" class="value">{}</text>"#,
                LABEL - 6.0,
                y + BAR - 4.0,
                escape(name),
                LABEL + w + 6.0,
                y + BAR - 4.0,
                escape(&value)
            );
            y += BAR + GAP;
        }
        y += 6.0;
    }
    let height = y + 20.0;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="sans-serif" font-size="12">
<style>
.title {{ font-size: 16px; font-weight: bold; }}
.group {{ font-size: 13px; font-weight: bold; fill: #222; }}
.label {{ text-anchor: end; fill: #333; }}
.value {{ fill: #333; }}
.ours {{ fill: #2f7ed8; }}
.peer {{ fill: #f28f43; }}
.anchor {{ fill: #9a9a9a; }}
</style>
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" class="title">wsproto benchmarks: median time, shorter is faster (same run)</text>
<rect x="10" y="33" width="12" height="12" class="ours"/><text x="26" y="43">wsproto</text>
<rect x="90" y="33" width="12" height="12" class="peer"/><text x="106" y="43">peer</text>
<rect x="150" y="33" width="12" height="12" class="anchor"/><text x="166" y="43">memory anchor</text>
{body}</svg>
"##
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
