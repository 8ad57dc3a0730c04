//! The default memory limit: a share of the memory this process may use, so a calculation that
//! would exhaust it fails with [`EngineError::MemoryLimit`](crate::EngineError::MemoryLimit)
//! instead of the operating system killing the process.

/// The share of the machine's (or the container's) memory calculations may reserve by default.
pub const DEFAULT_MEMORY_SHARE: f64 = 0.75;

/// [`DEFAULT_MEMORY_SHARE`] of the memory available to this process: the smaller of the
/// machine's memory and a cgroup limit (a container's), where the system says; `None` where it
/// does not (then there is no default limit).
pub fn default_memory_limit() -> Option<usize> {
    let total = [machine_memory(), cgroup_limit()].into_iter().flatten().min()?;
    Some((total as f64 * DEFAULT_MEMORY_SHARE) as usize)
}

/// `MemTotal` of /proc/meminfo (Linux), in bytes.
fn machine_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.trim_start_matches("MemTotal:").trim().trim_end_matches("kB").trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// The memory limit of this process's cgroup (v2 `memory.max`, or v1 `memory.limit_in_bytes`),
/// when one is set.
fn cgroup_limit() -> Option<u64> {
    ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        // "max" (v2) or a huge number (v1) mean no limit.
        .filter_map(|text| text.trim().parse::<u64>().ok())
        .find(|&bytes| bytes < 1 << 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_a_share_of_real_memory() {
        // Every machine the tests run on is Linux with /proc/meminfo.
        let limit = default_memory_limit().expect("a default limit on Linux");
        let total = machine_memory().expect("MemTotal");
        assert!(limit > 0 && limit as u64 <= total * 3 / 4 + 1, "{limit} of {total}");
    }
}
