//! The gateway under test, in this process: `basalt::server::build` on a config written here,
//! the built-in simulator added to the same Pingora server, and the scripted upstream
//! (`script.rs`) — started once per test binary, on free loopback ports.

use super::script;
use async_trait::async_trait;
use pingora::server::{RunArgs, ShutdownSignal, ShutdownSignalWatch};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

/// How long start-up may take (a cold, loaded 2-core machine; normally well under 1 s).
const START_LIMIT: Duration = Duration::from_secs(20);

/// Secret the simulator accepts by default.
pub const AK: &str = "AKIDBASALTLOCAL";
pub const SK: &str = "basalt-local-secret-key";
/// The `authed` listener's one client key (named `team-a`).
pub const CLIENT_KEY: &str = "team-a-client-key";

/// Caps of the `main` listener (small, so tests can cross them cheaply).
pub const MAX_BODY_BYTES: usize = 4096;
pub const MAX_MESSAGES: usize = 4;
pub const MAX_CONTENT_PARTS: usize = 6;
pub const MAX_TOOLS: usize = 2;

pub struct Stack {
    /// Listener `main`: no client auth, the small caps above.
    pub main: u16,
    /// Listener `tight`: `maxConcurrentRequests: 1`.
    pub tight: u16,
    /// Listener `authed`: `auth.apiKeys`.
    pub authed: u16,
    /// The built-in simulator (`/_sim/requests`).
    pub sim: u16,
}

/// The running stack (started on first use).
pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(start)
}

/// `n` distinct free ports: all bound at once (so none repeats), then released.
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    held.iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// Never asks the server to stop: the process ends when the tests do, and no signal handler
/// is installed (Ctrl-C still ends a test run).
struct NoShutdown;

#[async_trait]
impl ShutdownSignalWatch for NoShutdown {
    async fn recv(&self) -> ShutdownSignal {
        std::future::pending().await
    }
}

fn config(p: &[u16], script: u16) -> String {
    let [main, tight, authed, admin, metrics, sim, dead] = p else {
        unreachable!()
    };
    format!(
        r#"
listeners:
  - name: main
    address: 127.0.0.1:{main}
    limits: {{maxBodyBytes: {MAX_BODY_BYTES}, maxMessages: {MAX_MESSAGES}, maxContentParts: {MAX_CONTENT_PARTS}, maxTools: {MAX_TOOLS}}}
  - name: tight
    address: 127.0.0.1:{tight}
    limits: {{maxConcurrentRequests: 1}}
  - name: authed
    address: 127.0.0.1:{authed}
    auth: {{apiKeys: {{secretRef: {{name: client-keys}}}}}}
admin: {{address: 127.0.0.1:{admin}}}
metrics: {{address: 127.0.0.1:{metrics}}}
server: {{threads: 2}}
secrets:
  - name: static
    stringData: {{accessKey: {AK}, secretKey: {SK}}}
  - name: client-keys
    stringData: {{team-a: {CLIENT_KEY}}}
backends:
  - name: sim-east
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: sim-west
    ai: {{provider: {{bedrock: {{region: us-west-2, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: sim-fixed
    ai: {{provider: {{bedrock: {{model: "amazon.nova-micro-v1:0", region: eu-west-1, endpoint: "http://127.0.0.1:{sim}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: script
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{script}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
  - name: dead
    ai: {{provider: {{bedrock: {{region: us-east-1, endpoint: "http://127.0.0.1:{dead}"}}}}}}
    policies: {{auth: {{aws: {{secretRef: {{name: static}}}}}}}}
routes:
  - name: fixed
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: fixed-model}}]
    backendRefs: [{{name: sim-fixed}}]
  - name: script
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "script-*"}}]
    backendRefs: [{{name: script}}]
  - name: hang
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "hang-*"}}]
    backendRefs: [{{name: script}}]
    timeouts: {{connect: 100ms, firstByte: 300ms}}
  - name: dead
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "dead-*"}}]
    backendRefs: [{{name: dead}}]
  - name: nova
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "amazon.nova-*"}}]
    backendRefs: [{{name: sim-east}}]
  - name: claude
    matches: [{{path: {{type: PathPrefix, value: /v1/chat/completions}}, model: "anthropic.*"}}]
    backendRefs: [{{name: sim-west}}]
"#
    )
}

fn start() -> Stack {
    if std::env::var_os("BASALT_LOG").is_some() {
        basalt::logging::init();
    }
    // main, tight, authed, admin, metrics, sim, dead (nothing listens there: refused).
    let p = free_ports(7);
    let script = script::start();
    let yaml = config(&p, script);
    let sim_addr = format!("127.0.0.1:{}", p[5]);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let built = basalt::config::load_str(&yaml, Path::new("."), &|_| None)
            .map_err(|e| format!("config: {e}"))
            .and_then(|c| basalt::server::build(&c));
        let mut server = match built {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        basalt::server::sim::add(&mut server, &sim_addr, Default::default(), 1);
        let _ = tx.send(Ok(()));
        server.run(RunArgs {
            shutdown_signal: Box::new(NoShutdown),
        });
    });
    rx.recv_timeout(START_LIMIT)
        .expect("the server thread did not report")
        .unwrap_or_else(|e| panic!("cannot build the gateway: {e}"));
    let deadline = Instant::now() + START_LIMIT;
    for port in [p[0], p[1], p[2], p[3], p[5]] {
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nothing accepts on 127.0.0.1:{port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Stack {
        main: p[0],
        tight: p[1],
        authed: p[2],
        sim: p[5],
    }
}
