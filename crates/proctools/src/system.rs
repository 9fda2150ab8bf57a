//! The machine as a whole, from `/proc/meminfo`: the kernel's own memory,
//! which no process's `VmRSS` shows.
//!
//! - `KernelStack`: every thread has a stack in the kernel (16 KiB on
//!   x86-64), for the system calls it makes. A server with a thread per
//!   client pays one per client here, besides what `VmRSS` shows.
//! - `Slab`: the kernel's small objects: sockets, their files and inodes,
//!   epoll's entries, each thread's `task_struct`. On loopback both ends of
//!   a connection are on this machine, so one connection is counted twice.
//!
//! Both are machine-wide: whatever else runs moves them too. Read them
//! before and after a change large enough to stand out (thousands of
//! connections), and compare runs measured the same way.

use std::io;

/// The kernel memory that `/proc/meminfo` reports, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelMemory {
    /// `KernelStack`: the threads' kernel stacks.
    pub kernel_stack: u64,
    /// `Slab`: the kernel's object caches, reclaimable or not.
    pub slab: u64,
}

impl KernelMemory {
    /// Parses the text of `/proc/meminfo` (values in kB, that is KiB).
    pub fn parse(meminfo: &str) -> Option<KernelMemory> {
        let kib = |name: &str| {
            meminfo.lines().find_map(|line| {
                let rest = line.strip_prefix(name)?.strip_prefix(':')?;
                rest.split_whitespace().next()?.parse::<u64>().ok()
            })
        };
        Some(KernelMemory {
            kernel_stack: kib("KernelStack")? * 1024,
            slab: kib("Slab")? * 1024,
        })
    }

    /// Reads `/proc/meminfo`. Without it (not Linux) this is an
    /// [`io::ErrorKind::Unsupported`] error.
    pub fn read() -> io::Result<KernelMemory> {
        if !cfg!(target_os = "linux") {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the kernel's memory is read from Linux's /proc/meminfo",
            ));
        }
        let text = std::fs::read_to_string("/proc/meminfo")?;
        KernelMemory::parse(&text).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "no KernelStack or Slab line in /proc/meminfo",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kernel_stack_and_slab_in_bytes() {
        let text = "MemTotal:       24683656 kB\nSlab:             415500 kB\nSReclaimable:     300000 kB\nKernelStack:        1952 kB\n";
        assert_eq!(
            KernelMemory::parse(text),
            Some(KernelMemory {
                kernel_stack: 1952 * 1024,
                slab: 415_500 * 1024
            })
        );
        assert_eq!(KernelMemory::parse("MemTotal: 1 kB\n"), None);
        if cfg!(target_os = "linux") {
            let now = KernelMemory::read().unwrap();
            assert!(now.kernel_stack > 0 && now.slab > 0, "{now:?}");
        }
    }
}
