use super::*;
use crate::config::model::RateLimit;
use std::collections::BTreeMap;

fn limit(kind: LimitKind, amount: u64, secs: u64) -> Limit {
    Limit {
        kind,
        amount,
        window: Duration::from_secs(secs),
    }
}

fn config(limits: Vec<Limit>, overrides: BTreeMap<String, Vec<Limit>>) -> Arc<RateLimit> {
    Arc::new(RateLimit {
        policy: "default/p".into(),
        key: RateLimitKey::Client,
        limits,
        overrides,
        redis: None,
    })
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn go_durations_as_openai_sends_them() {
    let ms = Duration::from_millis;
    assert_eq!(go_duration(ms(0)), "0s");
    assert_eq!(go_duration(Duration::from_nanos(1)), "1ms", "rounded up");
    assert_eq!(go_duration(ms(1)), "1ms");
    assert_eq!(go_duration(ms(250)), "250ms");
    assert_eq!(go_duration(ms(1000)), "1s");
    assert_eq!(go_duration(ms(1500)), "1.5s");
    assert_eq!(go_duration(ms(41_724)), "41.724s");
    assert_eq!(go_duration(ms(60_000)), "1m0s");
    assert_eq!(go_duration(ms(360_000)), "6m0s");
    assert_eq!(go_duration(ms(90_500)), "1m30.5s");
    assert_eq!(go_duration(ms(3_600_000)), "1h0m0s");
    assert_eq!(go_duration(Duration::from_secs(30 * 86_400)), "720h0m0s");
}

#[test]
fn retry_after_is_whole_seconds_rounded_up() {
    assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
    assert_eq!(retry_after_secs(Duration::ZERO), 1);
    assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
    assert_eq!(retry_after_secs(Duration::from_secs(60)), 60);
}

#[test]
fn request_window_admits_exactly_the_limit_then_resets() {
    let m = memory::MemoryStore::default();
    let limits = [limit(LimitKind::Requests, 3, 10)];
    let t0 = Instant::now();
    for i in 1..=3 {
        let c = m.check("a", &limits, t0);
        assert!(c.admitted);
        assert_eq!(c.counts[0].used, i);
    }
    let refused = m.check("a", &limits, t0 + Duration::from_secs(4));
    assert!(!refused.admitted);
    assert_eq!(
        refused.counts[0].used, 3,
        "a refused request is not counted"
    );
    assert_eq!(refused.counts[0].reset, Duration::from_secs(6));
    assert!(m.check("b", &limits, t0).admitted, "keys are counted apart");
    let later = m.check("a", &limits, t0 + Duration::from_secs(10));
    assert!(later.admitted, "the window ended");
    assert_eq!(later.counts[0].used, 1);
}

#[test]
fn token_window_refuses_once_exhausted_and_allows_overshoot() {
    let m = memory::MemoryStore::default();
    let limits = [
        limit(LimitKind::Requests, 100, 60),
        limit(LimitKind::Tokens, 1000, 60),
    ];
    let t0 = Instant::now();
    assert!(m.check("a", &limits, t0).admitted);
    m.charge("a", &limits[1..], 999, t0);
    let c = m.check("a", &limits, t0);
    assert!(c.admitted, "999 < 1000: still room");
    m.charge("a", &limits[1..], 500, t0);
    let c = m.check("a", &limits, t0);
    assert!(!c.admitted, "1499 ≥ 1000");
    assert_eq!(c.counts[1].used, 1499, "the overshoot is kept");
    assert_eq!(c.counts[0].used, 2, "the refused request is not counted");
}

#[test]
fn tightest_limit_of_each_kind() {
    let limits = [
        limit(LimitKind::Requests, 10, 1),
        limit(LimitKind::Requests, 100, 60),
        limit(LimitKind::Tokens, 1000, 60),
    ];
    let counts = [
        Count {
            used: 2,
            reset: Duration::from_millis(500),
        },
        Count {
            used: 95,
            reset: Duration::from_secs(30),
        },
        Count {
            used: 10,
            reset: Duration::from_secs(60),
        },
    ];
    let a = tightest(&limits, &counts);
    let h = Headers::of(&a).0;
    let want: Vec<(&str, String)> = vec![
        ("x-ratelimit-limit-requests", "100".into()),
        ("x-ratelimit-remaining-requests", "5".into()),
        ("x-ratelimit-reset-requests", "30s".into()),
        ("x-ratelimit-limit-tokens", "1000".into()),
        ("x-ratelimit-remaining-tokens", "990".into()),
        ("x-ratelimit-reset-tokens", "1m0s".into()),
    ];
    assert_eq!(h, want);
    assert!(Headers::of(&Admission::default()).0.is_empty());
}

#[test]
fn overrides_replace_the_limits_of_their_key() {
    let mut o = BTreeMap::new();
    o.insert("team-a".to_owned(), vec![limit(LimitKind::Requests, 5, 60)]);
    let l = Limiter::new(config(vec![limit(LimitKind::Requests, 1, 60)], o)).unwrap();
    rt().block_on(async {
        for _ in 0..5 {
            assert!(l.admit("team-a").await.is_ok());
        }
        assert!(l.admit("team-a").await.is_err());
        assert!(l.admit("team-b").await.is_ok());
        match l.admit("team-b").await {
            Err(Refusal::Limited {
                retry_after, limit, ..
            }) => {
                assert_eq!(limit.amount, 1);
                assert!(
                    retry_after <= Duration::from_secs(60) && retry_after > Duration::from_secs(50)
                );
            }
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn in_process_store_is_exact_under_concurrency() {
    let l = Arc::new(
        Limiter::new(config(
            vec![limit(LimitKind::Requests, 1000, 60)],
            BTreeMap::new(),
        ))
        .unwrap(),
    );
    let admitted = rt().block_on(async {
        let tasks: Vec<_> = (0..3000)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move { l.admit("k").await.is_ok() })
            })
            .collect();
        let mut n = 0;
        for t in tasks {
            n += usize::from(t.await.unwrap());
        }
        n
    });
    assert_eq!(admitted, 1000);
}

#[test]
fn usage_lists_keys_and_limits() {
    let l = Arc::new(
        Limiter::new(config(
            vec![
                limit(LimitKind::Requests, 10, 60),
                limit(LimitKind::Tokens, 100, 3600),
            ],
            BTreeMap::new(),
        ))
        .unwrap(),
    );
    let v = rt().block_on(async {
        l.admit("team-a").await.unwrap();
        l.charge("team-a", 30);
        l.usage().await
    });
    assert_eq!(v["policy"], "default/p");
    assert_eq!(v["store"], "memory");
    let rows = &v["keys"][0]["limits"];
    assert_eq!(v["keys"][0]["key"], "team-a");
    assert_eq!(rows[0]["limit"], 10);
    assert_eq!(rows[0]["used"], 1);
    assert_eq!(rows[0]["remaining"], 9);
    assert_eq!(rows[0]["resetSeconds"], 60);
    assert_eq!(rows[1]["used"], 30);
    assert_eq!(rows[1]["remaining"], 70);
    assert_eq!(rows[1]["window"], "1h0m0s");
}

#[test]
fn script_answers_are_parsed_strictly() {
    let c = redis_store::parse_checked(&[1, 3, 59000, 10, 60000], 2).unwrap();
    assert!(c.admitted);
    assert_eq!(c.counts[1].used, 10);
    assert_eq!(c.counts[0].reset, Duration::from_millis(59000));
    assert!(redis_store::parse_checked(&[1, 3], 2).is_err());
}
