//! Ctrl-C: the first interrupt sets a flag and asks the server to cancel
//! the running statement, so the executor can roll back, release the deploy
//! lock and exit with 130. A second interrupt exits at once (the server
//! rolls back an open transaction when the connection drops). Used by the
//! engine; imports nothing of the crate but `db`.

use crate::db::Settings;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static CANCEL: Mutex<Option<(Settings, postgres::CancelToken)>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// The exit code of an interrupted run (the shell's 128 + SIGINT).
pub const EXIT_CODE: u8 = 130;

pub fn install() {
    INSTALL.call_once(|| {
        let result = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(i32::from(EXIT_CODE));
            }
            if let Ok(guard) = CANCEL.lock()
                && let Some((settings, token)) = guard.as_ref()
            {
                let _ = settings.cancel(token);
            }
        });
        if let Err(e) = result {
            tracing_fallback(&e);
        }
    });
}

fn tracing_fallback(e: &ctrlc::Error) {
    eprintln!("warning: cannot handle Ctrl-C ({e}); an interrupt will end jobsctl without cleanup");
}

/// The session whose running statement Ctrl-C cancels.
pub fn watch(settings: &Settings, client: &postgres::Client) {
    if let Ok(mut guard) = CANCEL.lock() {
        *guard = Some((settings.clone(), client.cancel_token()));
    }
}

pub fn is_interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
