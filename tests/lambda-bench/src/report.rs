//! The Markdown table: medians over the cold starts of each function. The two CPU columns
//! (every thread's run time from `schedstat`) show what a warm request costs apart from
//! waiting on DynamoDB.

use std::time::Duration;

use crate::sandbox::Sample;

pub struct Row {
    pub function: String,
    pub size_bytes: u64,
    pub samples: Vec<Sample>,
}

/// With `read_at_init`, a last column: how much of the binary init brought into the page cache
/// (meaningful when the binary was dropped from it before each start).
pub fn table(title: &str, rows: &[Row], read_at_init: bool) -> String {
    let mut out = format!("\n{title}\n\n");
    out.push_str(
        "| function | size | init median | first invoke | second invoke | peak RSS | init CPU | second invoke CPU |",
    );
    out.push_str(if read_at_init {
        " read by init |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    } else {
        "\n|---|---:|---:|---:|---:|---:|---:|---:|\n"
    });
    for row in rows {
        let s = &row.samples;
        let read = median(s.iter().map(|x| x.resident_after_init_kib));
        out.push_str(&format!(
            "| {} | {:.1} MiB | {} | {} | {} | {:.1} MiB | {} | {} |",
            row.function,
            row.size_bytes as f64 / 1_048_576.0,
            ms(median(s.iter().map(|x| x.init))),
            ms(median(s.iter().map(|x| x.first))),
            ms(median(s.iter().map(|x| x.second))),
            median(s.iter().map(|x| x.peak_rss_kib)) as f64 / 1024.0,
            ms(median(s.iter().map(|x| x.init_cpu))),
            ms(median(s.iter().map(|x| x.second_cpu))),
        ));
        if read_at_init {
            out.push_str(&format!(
                " {}.{} MiB ({}%) |",
                read / 1024,
                read % 1024 * 10 / 1024,
                read * 1024 * 100 / row.size_bytes.max(1)
            ));
        }
        out.push('\n');
    }
    out
}

fn median<T: Ord + Copy + Default>(values: impl Iterator<Item = T>) -> T {
    let mut v: Vec<T> = values.collect();
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 { format!("{ms:.2} ms") } else { format!("{ms:.1} ms") }
}
