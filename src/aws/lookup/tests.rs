use super::*;
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn the_pacer_spaces_requests() {
    let pacer = Pacer::new(Duration::from_millis(500));
    let t0 = Instant::now();
    let mut times = Vec::new();
    for _ in 0..5 {
        pacer.wait().await;
        times.push(Instant::now() - t0);
    }
    assert_eq!(
        times,
        (0..5)
            .map(|i| Duration::from_millis(500 * i))
            .collect::<Vec<_>>()
    );
}

#[test]
fn lookups_describe_themselves() {
    assert_eq!(
        Lookup::describe(Some(&Lookup::event_name("AssumeRoleWithWebIdentity"))),
        "EventName=AssumeRoleWithWebIdentity"
    );
    assert_eq!(Lookup::describe(None), "all events");
}
