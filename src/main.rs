//! `basalt --config PATH [--check] [--admin ADDR] [--metrics ADDR] [--secrets-dir DIR]
//! [--simulator ADDR]`: run (or validate the config of) the gateway.

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
    /// Config file: basalt's YAML format, or Kubernetes manifests (a file of documents with
    /// apiVersion/kind, or a directory of *.yaml/*.yml).
    #[arg(short = 'c', long = "config", default_value = "conf/gateway.yaml")]
    config: PathBuf,
    /// Serve /config_dump and /healthz/* on this address instead of admin.address.
    #[arg(long, value_name = "ADDR")]
    admin: Option<String>,
    /// Serve /metrics on this address instead of metrics.address.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// Manifests: a Secret named by a resource but not among the documents is read from the
    /// mounted directory DIR/<namespace>/<name> (re-read when it changes).
    #[arg(long, value_name = "DIR")]
    secrets_dir: Option<PathBuf>,
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
    let overrides = basalt::config::Overrides {
        admin: cli.admin.clone(),
        metrics: cli.metrics.clone(),
        secrets_dir: cli.secrets_dir.clone(),
    };
    let config = match basalt::config::load_with(&cli.config, &overrides) {
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
