//! `basalt --config FILE [--check] [--simulator ADDR]`: run (or validate the config of) the gateway.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// jemalloc: less gateway CPU per request than glibc malloc at a similar RSS, measured with
/// load/nonstream.py (mimalloc was as fast but doubled the RSS; see load/README.md).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser, Debug)]
#[command(
    name = "basalt",
    version,
    about = "OpenAI-compatible gateway for Amazon Bedrock"
)]
struct Cli {
    /// Config file.
    #[arg(short = 'c', long = "config", default_value = "conf/gateway.yaml")]
    config: PathBuf,
    /// Validate the config, print problems with their key path, and exit.
    #[arg(long)]
    check: bool,
    /// Also start the built-in Bedrock simulator on this address (e.g. 127.0.0.1:9000).
    #[cfg(feature = "simulator")]
    #[arg(long, value_name = "ADDR")]
    simulator: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    basalt::logging::init();
    let config = match basalt::config::load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{}: invalid configuration:\n{e}", cli.config.display());
            return ExitCode::from(2);
        }
    };
    if cli.check {
        for w in config.warnings() {
            eprintln!("warning: {w}");
        }
        println!("{}: configuration is valid", cli.config.display());
        return ExitCode::SUCCESS;
    }
    #[allow(unused_mut)] // mutated only with the simulator feature
    let mut process = match basalt::server::build_process(&config) {
        Ok(process) => process,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    #[cfg(feature = "simulator")]
    if let Some(addr) = &cli.simulator {
        basalt::server::sim::add(
            &mut process.server,
            addr,
            basalt::sim::SimOptions::default(),
            1,
        );
    }
    // Signals (SIGTERM drains, SIGINT exits, SIGHUP reloads) are handled in basalt::server.
    let path = cli.config.clone();
    let load = Box::new(move || basalt::config::load(&path));
    process.run(cli.config, load)
}
