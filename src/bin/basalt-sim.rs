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
    /// Seconds before an idle keep-alive connection is closed (pool-retry tests).
    #[arg(long, default_value_t = 60)]
    keepalive: u64,
    /// Extra accepted credentials as `ACCESS_KEY:SECRET_KEY[:SESSION_TOKEN]` (repeatable); with a
    /// token, requests signed with that key must carry it.
    #[arg(long = "credential")]
    credentials: Vec<String>,
    /// Accept minted temporary credentials `<PREFIX><unix expiry><...>` (secret `sk-<key>`,
    /// token `tok-<key>`) until their expiry (credential-refresh tests).
    #[arg(long)]
    rotating_prefix: Option<String>,
}

fn main() {
    basalt::logging::init();
    let cli = Cli::parse();
    let mut options = SimOptions {
        verify: !cli.no_verify,
        record: !cli.no_record,
        latency: basalt::config::model::parse_duration(&cli.latency).unwrap_or_default(),
        ..SimOptions::default()
    };
    for c in &cli.credentials {
        let mut parts = c.splitn(3, ':');
        if let (Some(ak), Some(sk)) = (parts.next(), parts.next()) {
            options.credentials.push((ak.to_owned(), sk.to_owned()));
            if let Some(token) = parts.next() {
                options.tokens.push((ak.to_owned(), token.to_owned()));
            }
        }
    }
    options.rotating_prefix = cli.rotating_prefix.clone();
    options.keepalive_secs = cli.keepalive;
    log::info!("Bedrock simulator on {}", cli.listen);
    basalt::server::sim::standalone(&cli.listen, options, cli.threads).run_forever();
}
