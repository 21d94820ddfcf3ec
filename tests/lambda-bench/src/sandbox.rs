//! One cold start: a fresh Runtime API, the binary started as Lambda starts a custom runtime
//! (its own environment only, `AWS_LAMBDA_*` and `_HANDLER` set, 128 MB declared), two
//! invocations, the peak RSS, then the process killed as a sandbox is reclaimed.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::probes::Probe;
use crate::runtime_api::{Invocation, Report, RuntimeApi};

/// How long init or an invocation may take before the bench gives up.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What one cold start measured.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Spawn to the first `next`.
    pub init: Duration,
    pub first: Duration,
    pub second: Duration,
    /// `VmHWM`, in KiB.
    pub peak_rss_kib: u64,
    /// CPU time the process used to init, and for the second invocation (every thread).
    pub init_cpu: Duration,
    pub second_cpu: Duration,
    /// How much of the binary was in the page cache when init ended, in KiB: with the binary
    /// dropped before the start, what init read from disk (faults and their read-around).
    pub resident_after_init_kib: u64,
}

pub struct Function<'a> {
    pub name: &'a str,
    pub binary: &'a Path,
    pub env: &'a BTreeMap<String, String>,
    pub probe: &'a Probe,
    pub log: &'a Path,
}

/// Runs one cold start; `tag` makes its ids unique.
pub async fn cold_start(f: &Function<'_>, tag: &str) -> anyhow::Result<Sample> {
    let mut api = RuntimeApi::start(f.name).await?;
    let log = File::options().create(true).append(true).open(f.log)?;
    let mut command = Command::new(f.binary);
    command
        .env_clear()
        .envs(f.env)
        .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", f.name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", f.name))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("bench/{tag}"))
        .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
        .env("_HANDLER", "bootstrap")
        .env("TZ", ":UTC")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let spawned = Instant::now();
    let mut child = command.spawn().with_context(|| format!("starting {}", f.binary.display()))?;
    let result = drive(&mut api, &mut child, f, tag, spawned).await;
    // Killed like a reclaimed sandbox, whatever happened. A process that already exited
    // cannot be killed; one still running that will not die would poison the next start.
    if child.try_wait().map_or(true, |exited| exited.is_none()) {
        child.kill().with_context(|| format!("killing {}", f.name))?;
    }
    child.wait().with_context(|| format!("reaping {}", f.name))?;
    api.shutdown();
    result.with_context(|| format!("{} (cold start {tag}; its output is in {})", f.name, f.log.display()))
}

async fn drive(
    api: &mut RuntimeApi,
    child: &mut Child,
    f: &Function<'_>,
    tag: &str,
    spawned: Instant,
) -> anyhow::Result<Sample> {
    let init = match wait(api, child).await? {
        Report::Polled(at) => at - spawned,
        other => bail!("init: {}", describe(&other)),
    };
    let init_cpu = cpu_time(child.id())?;
    let resident_after_init_kib = {
        let binary = File::open(f.binary)?;
        let len = binary.metadata()?.len();
        resident_bytes(&binary, usize::try_from(len)?)? / 1024
    };
    let mut cpu_before_second = Duration::ZERO;
    let mut times = [Duration::ZERO; 2];
    for (i, time) in times.iter_mut().enumerate() {
        let n = i + 1;
        if n == 2 {
            cpu_before_second = cpu_time(child.id())?;
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        let payload = serde_json::to_vec(&f.probe.event(tag, n))?;
        api.events
            .send(Invocation { request_id: request_id.clone(), payload })
            .map_err(|_| anyhow::anyhow!("the runtime API stopped"))?;
        let delivered = match wait(api, child).await? {
            Report::Delivered { request_id: id, at } if id == request_id => at,
            other => bail!("invocation {n}: {}", describe(&other)),
        };
        let (answered, body) = match wait(api, child).await? {
            Report::Answered { request_id: id, at, body } if id == request_id => (at, body),
            other => bail!("invocation {n}: {}", describe(&other)),
        };
        *time = answered - delivered;
        let answer: Value = serde_json::from_slice(&body).context("the answer is not JSON")?;
        f.probe.check(tag, n, &answer).with_context(|| format!("invocation {n} answered wrongly: {answer}"))?;
        // Back in `next`: idle, as a warm sandbox between events.
        match wait(api, child).await? {
            Report::Polled(_) => {}
            other => bail!("after invocation {n}: {}", describe(&other)),
        }
    }
    let second_cpu = cpu_time(child.id())?.saturating_sub(cpu_before_second);
    let peak_rss_kib = peak_rss_kib(child.id())?;
    Ok(Sample { init, first: times[0], second: times[1], peak_rss_kib, init_cpu, second_cpu, resident_after_init_kib })
}

/// The next report, or an error if the process exits or nothing happens in time.
async fn wait(api: &mut RuntimeApi, child: &mut Child) -> anyhow::Result<Report> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        // Short polls: the process may die without a word, and `Child` cannot be awaited.
        match tokio::time::timeout(Duration::from_millis(2), api.reports.recv()).await {
            Ok(Some(report)) => return Ok(report),
            Ok(None) => bail!("the runtime API stopped"),
            Err(_) => {}
        }
        if let Some(status) = child.try_wait()? {
            bail!("the process exited ({status})");
        }
        if Instant::now() > deadline {
            bail!("nothing happened for {TIMEOUT:?}");
        }
    }
}

fn describe(report: &Report) -> String {
    match report {
        Report::Polled(_) => "asked for an event unexpectedly".to_owned(),
        Report::Delivered { .. } => "an unexpected event was delivered".to_owned(),
        Report::Answered { body, .. } => format!("answered another request: {}", String::from_utf8_lossy(body)),
        Report::Failed { request_id, body } => {
            format!("posted an error for {request_id}: {}", String::from_utf8_lossy(body))
        }
        Report::InitFailed { body } => format!("posted an init error: {}", String::from_utf8_lossy(body)),
    }
}

/// `VmHWM` of a live process, in KiB.
fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/<pid>/status")
}

/// CPU time of every thread of a live process, from `/proc/<pid>/task/*/schedstat` (ns, not
/// the 10 ms ticks of `stat`). Threads only end with the process here (tokio's workers stay).
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let mut ns = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let stat = std::fs::read_to_string(task?.path().join("schedstat")).unwrap_or_default();
        ns += stat.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    }
    Ok(Duration::from_nanos(ns))
}

/// Drops the binary's pages from the page cache (`posix_fadvise(DONTNEED)`, no root needed)
/// and returns the share of them still resident afterwards, in percent, as `mincore` reports it.
pub fn evict_from_page_cache(binary: &Path) -> anyhow::Result<u64> {
    let file = File::open(binary)?;
    let len = file.metadata()?.len() as usize;
    // Dirty pages are not dropped: a binary just built or copied must reach the disk first.
    file.sync_data()?;
    // SAFETY: a valid descriptor; the advice only affects caching.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if rc != 0 {
        bail!("posix_fadvise: {}", std::io::Error::from_raw_os_error(rc));
    }
    Ok(resident_bytes(&file, len)? * 100 / u64::try_from(len.max(1))?)
}

/// How many bytes of the file are in the page cache (whole pages, the last one capped).
fn resident_bytes(file: &File, len: usize) -> anyhow::Result<u64> {
    if len == 0 {
        return Ok(0);
    }
    // SAFETY: a read-only shared mapping of `len` bytes, unmapped below; mincore only reads
    // the page tables and fills `pages` (one byte per page).
    unsafe {
        let map = libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0);
        if map == libc::MAP_FAILED {
            bail!("mmap: {}", std::io::Error::last_os_error());
        }
        let page = usize::try_from(libc::sysconf(libc::_SC_PAGESIZE)).unwrap_or(4096);
        let mut pages = vec![0u8; len.div_ceil(page)];
        let rc = libc::mincore(map, len, pages.as_mut_ptr());
        libc::munmap(map, len);
        if rc != 0 {
            bail!("mincore: {}", std::io::Error::last_os_error());
        }
        let resident = pages.iter().filter(|p| *p & 1 == 1).count();
        Ok(u64::try_from((resident * page).min(len))?)
    }
}
