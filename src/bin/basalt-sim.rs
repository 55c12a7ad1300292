//! `basalt-sim [--listen ADDR] [--no-verify] [--latency 5ms] [--threads N]`: the Bedrock runtime
//! simulator on its own (tests, load scripts).

use basalt::sim::SimOptions;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(name = "basalt-sim", about = "Bedrock runtime simulator")]
struct Cli {
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: String,
    /// Do not check SigV4 / bearer auth (load tests).
    #[arg(long)]
    no_verify: bool,
    /// Do not record requests (load tests).
    #[arg(long)]
    no_record: bool,
    /// Latency added to every answer, e.g. 5ms.
    #[arg(long, default_value = "0ms")]
    latency: String,
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Extra accepted credentials as ACCESS_KEY:SECRET_KEY (repeatable).
    #[arg(long = "credential")]
    credentials: Vec<String>,
}

fn main() {
    basalt::server::init_logging();
    let cli = Cli::parse();
    let mut options = SimOptions {
        verify: !cli.no_verify,
        record: !cli.no_record,
        latency: basalt::config::model::parse_duration(&cli.latency).unwrap_or_default(),
        ..SimOptions::default()
    };
    for c in &cli.credentials {
        if let Some((ak, sk)) = c.split_once(':') {
            options.credentials.push((ak.to_owned(), sk.to_owned()));
        }
    }
    log::info!("Bedrock simulator on {}", cli.listen);
    basalt::server::build_simulator(&cli.listen, options, cli.threads).run_forever();
}
