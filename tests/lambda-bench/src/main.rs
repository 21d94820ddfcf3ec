//! `lambda-bench`: cold starts of real function binaries against a Lambda Runtime API
//! emulator, for `make bench-lambda` (infra/local/bench-lambda.sh builds the binaries and
//! starts the emulators).
//!
//! ```text
//! lambda-bench [--runs N] [--page-cache warm|cold|both] NAME=BINARY...
//! ```
//!
//! Each cold start spawns the binary as Lambda starts a `provided.al2023` runtime: its own
//! environment (template variables, emulator endpoints, `AWS_LAMBDA_*`, 128 MB), a Runtime
//! API of its own ([`runtime_api`]), two real events ([`probes`]), then `VmHWM` and a kill.
//! Measured: init (spawn → first `next`), each invocation (event handed over → answer
//! received), peak RSS, and the CPU time of init and of the second invocation; the table shows medians of `--runs` (default `BENCH_LAMBDA_RUNS`,
//! else 10). `--page-cache cold` drops the binary's pages before each spawn
//! (`posix_fadvise(DONTNEED)`, checked with `mincore`), as a sandbox on a new host reads its
//! code from disk. Any init error, posted error, wrong answer, crash or timeout fails the run.
//!
//! Why a binary of its own, in the dev profile, rather than a `cargo bench`: the instrument
//! must not change with what it measures. The bench compares release profiles of the
//! functions; a bench target would be rebuilt with each of them (and with the whole test
//! crate under LTO). In the dev profile it is built once, mostly from what CI's clippy and
//! test build already compile, and its overhead is the same for every row: the
//! `lambda-hello` row measures that floor (runtime, tokio and the emulator round trip), and
//! the `lambda-sdk-floor` row the same plus the AWS stack every billing function starts.
//! Provisioning reuses the local server's (`local_server::provision`), so the functions find
//! exactly the table, queues and bus of template.yaml.
//!
//! What it does not show: Firecracker and the arm64 (Graviton) CPU (this runs the native
//! x86_64 build), network distance and TLS to AWS (the emulators are on loopback), and shared
//! libraries (libc, libgcc) leaving the page cache; time is measured in this process.

mod probes;
mod report;
mod runtime_api;
mod sandbox;
mod stack;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::probes::Probe;
use crate::report::Row;
use crate::sandbox::Function;

#[derive(Clone, Copy, PartialEq)]
enum PageCache {
    Warm,
    Cold,
}

struct Args {
    runs: usize,
    modes: Vec<PageCache>,
    functions: Vec<(String, PathBuf)>,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut runs: usize = match std::env::var("BENCH_LAMBDA_RUNS") {
        Ok(v) => v.parse().with_context(|| format!("BENCH_LAMBDA_RUNS={v:?}"))?,
        Err(_) => 10,
    };
    let mut modes = vec![PageCache::Warm];
    let mut functions = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().context("--runs N")?.parse()?,
            "--page-cache" => {
                modes = match args.next().as_deref() {
                    Some("warm") => vec![PageCache::Warm],
                    Some("cold") => vec![PageCache::Cold],
                    Some("both") => vec![PageCache::Warm, PageCache::Cold],
                    other => bail!("--page-cache warm|cold|both, not {other:?}"),
                }
            }
            _ => {
                let (name, path) = arg.split_once('=').with_context(|| format!("expected NAME=BINARY, got {arg}"))?;
                functions.push((name.to_owned(), PathBuf::from(path)));
            }
        }
    }
    if runs == 0 || functions.is_empty() {
        bail!("usage: lambda-bench [--runs N] [--page-cache warm|cold|both] NAME[@VARIANT]=BINARY...");
    }
    Ok(Args { runs, modes, functions })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let stack = stack::Stack::provision().await?;
    let logs = Path::new(".local/bench-lambda/functions");
    std::fs::create_dir_all(logs)?;
    // Each row's probe, environment and log, set up once for every mode.
    let mut setups = Vec::with_capacity(args.functions.len());
    for (row_name, binary) in &args.functions {
        // `NAME@VARIANT=BINARY` compares builds of one function (e.g. release profiles).
        let name = row_name.split_once('@').map_or(row_name.as_str(), |(package, _)| package);
        let probe = Probe::for_binary(name, &stack)?;
        let env = stack.function_env(name)?;
        setups.push((row_name, name, binary, probe, env, logs.join(format!("{row_name}.log"))));
    }
    for mode in args.modes.iter().copied() {
        let mut samples: Vec<Vec<_>> = setups.iter().map(|_| Vec::with_capacity(args.runs)).collect();
        // Rows take turns run by run, so a slow spell of the disk or the machine falls on
        // every row alike and the ratios to the hello world hold.
        for run in 0..args.runs {
            for (row, (_, name, binary, probe, env, log)) in setups.iter().enumerate() {
                let function = Function { name, binary, env, probe, log };
                // Unique per row too: two variants of one function must not share organizations.
                let mode_tag = if mode == PageCache::Cold { "c" } else { "w" };
                let tag = format!("{mode_tag}{row}x{run}-{}", std::process::id());
                probe.prepare(&stack, &tag).await?;
                if mode == PageCache::Cold {
                    let resident = sandbox::evict_from_page_cache(binary)?;
                    if resident > 5 {
                        bail!("{name}: {resident}% of the binary stayed in the page cache");
                    }
                }
                samples[row].push(sandbox::cold_start(&function, &tag).await?);
            }
        }
        let mut rows = Vec::with_capacity(setups.len());
        for ((row_name, name, binary, probe, ..), samples) in setups.iter().zip(samples) {
            probe.verify_after(&stack).await.with_context(|| format!("{row_name} after its cold starts"))?;
            eprintln!("lambda-bench: {name}: {} cold starts ok", samples.len());
            rows.push(Row { function: (*row_name).clone(), size_bytes: std::fs::metadata(binary)?.len(), samples });
        }
        let title = match mode {
            PageCache::Warm => format!("Binary in the page cache (medians of {} cold starts):", args.runs),
            PageCache::Cold => {
                format!("Binary dropped from the page cache before each start (medians of {} cold starts):", args.runs)
            }
        };
        print!("{}", report::table(&title, &rows, mode == PageCache::Cold));
    }
    Ok(())
}
