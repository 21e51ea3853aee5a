use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::Parser;
use ctaudit::{ExitStatus, cli::Cli};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error.into()
            } else {
                ExitStatus::Clean.into()
            };
        }
    };
    let mut stdout = BufWriter::new(io::stdout().lock());
    // Not locked: polars' worker threads may print warnings too.
    let mut stderr = io::stderr();
    let result = ctaudit::run(cli, &mut stdout, &mut stderr).and_then(|s| {
        stdout.flush()?;
        Ok(s)
    });
    match result {
        Ok(status) => status.into(),
        Err(e) if is_broken_pipe(&e) => ExitStatus::Clean.into(),
        Err(e) => {
            let message = format!("{e:#}");
            let _ = writeln!(
                stderr,
                "ctaudit: error: {}",
                ctaudit::output::escape::terminal(&message)
            );
            ExitStatus::Error.into()
        }
    }
}

/// A closed pipe (`ctaudit … | head`) is a clean end, not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
