//! Allocator settings, so that memory a burst used goes back to the system afterwards.
//!
//! glibc's `malloc` serves large blocks with `mmap` at first, but after one is freed it raises
//! its threshold to that size (up to 32 MiB) and serves the next ones from its heaps, which it
//! does not give back: every argon2 work area (19 MiB, one per password check) then stayed
//! resident, 100 sign-ins leaving gigabytes behind (issue 11). A fixed threshold keeps every
//! block of 1 MiB or more on its own mapping, returned to the system when freed; smaller ones
//! are what the heaps are good at. What the heaps hold free at their tops after a burst (start-up
//! builds the OpenAPI document and the route table once; an export or an import allocates and
//! frees much) is handed back by [`trim`], which the server runs after start-up and then once a
//! minute.

/// Blocks from this size up are mapped on their own.
pub const MMAP_THRESHOLD: usize = 1 << 20;

/// Applies the settings (once, at start, before threads allocate).
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes malloc's tunables; called before any other thread runs.
    unsafe {
        // A fixed threshold (this also turns glibc's raising of it off).
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int);
    }
}

/// Gives free heap memory back to the system (`malloc_trim`); a no-op elsewhere than glibc.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` is thread-safe and only releases memory malloc holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Trims after start-up and then every minute, until dropped.
pub struct Trimmer(tokio::task::JoinHandle<()>);

impl Trimmer {
    pub fn start() -> Self {
        Self(tokio::spawn(async {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            loop {
                every.tick().await;
                // A blocking thread: a large heap takes a moment to walk.
                let _ = tokio::task::spawn_blocking(trim).await;
            }
        }))
    }
}

impl Drop for Trimmer {
    fn drop(&mut self) {
        self.0.abort();
    }
}
