//! The API's router in process, without a server or a socket: requests through
//! `tower::ServiceExt::oneshot`, over a Postgres database and an index filled by the real
//! sinks. What needs the server itself (limits on clients, request heads, the log) is tested
//! through the binary in the root `tests/serve.rs`.

mod fixture;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use fixture::{TITLE, filled};
use pubmine_index::search::Searcher;
use pubmine_serve::api::{Api, router};
use pubmine_store::testing::TestDb;
use tower::ServiceExt as _;

fn app(db: &TestDb, index: &std::path::Path) -> Router {
    router(Api {
        searcher: Some(Searcher::open(index).unwrap()),
        pool: Some(db.pool.clone()),
    })
}

/// The status and body of the answer to a GET of `path`, sent as written.
async fn get(app: &Router, path: &str) -> (u16, String) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_and_refuses_bad_requests_with_400() {
    let (db, dir) = filled().await;
    let app = app(&db, dir.path());
    let base = &app;

    let (status, body) = get(base, "/search?query=brca1&year_from=2005&limit=3").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["total"], 7, "{body}");
    assert_eq!(v["hits"].as_array().unwrap().len(), 3);
    assert_eq!(v["hits"][0]["mentions"][0]["text"], "BRCA1", "{body}");

    // Page sizes are capped, not refused.
    let (status, body) = get(base, "/search?query=brca1&limit=100000").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["limit"], pubmine_index::search::MAX_LIMIT);

    // Malformed requests: 400 with a reason, never 500.
    for bad in [
        "/search?query=brca1&limit=ten",
        "/search?query=brca1&colour=blue",
        "/search?query=%22brca1",
        "/search",
        "/search?query=brca1&year_from=2010&year_to=2000",
        "/entities/top?limit=-x",
    ] {
        let (status, body) = get(base, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("a JSON error");
        assert!(!v["error"].as_str().unwrap().is_empty(), "{bad}");
    }

    let (status, body) = get(base, "/documents/pmid:3").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["mentions"].as_array().unwrap().len(), 3);
    assert_eq!(v["document"]["title"], TITLE);
    let (status, _) = get(base, "/documents/pmid:999").await;
    assert_eq!(status, 404);

    let (status, body) = get(base, "/documents/pmid:3/pubtator").await;
    assert_eq!(status, 200);
    assert!(body.starts_with(&format!("3|t|{TITLE}\n")), "{body}");
    assert!(body.contains("3\t14\t19\tBRCA1\tGene\tbrca1\n"), "{body}");
    let (status, body) = get(base, "/documents/pmid:3/bioc").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["documents"][0]["passages"][0]["annotations"][1]["text"],
        "BRCA1"
    );

    let (status, body) = get(base, "/entities/top?type=Gene&limit=5").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["normalized"], "brca1");
    assert_eq!(v[0]["documents"], 12);

    db.drop_db().await;
}

/// Hostile requests, each refused with a reason, none a 500. A query nested 3,000 deep used to
/// overflow the stack (the process aborted), and a NUL in an id or a type reached Postgres,
/// whose error text came back in a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_4xx_with_a_reason() {
    let (db, dir) = filled().await;
    let app = app(&db, dir.path());
    let base = &app;

    let nested = format!("{}brca1{}", "(".repeat(3_000), ")".repeat(3_000));
    let nots = format!("{}brca1", "NOT%20".repeat(3_000));
    let long = "brca1%20".repeat(700);
    let many_terms = (0..101)
        .map(|i| format!("t{i}"))
        .collect::<Vec<_>>()
        .join("%20OR%20");
    let long_type = "x".repeat(101);
    let long_id = "9".repeat(300);
    let cases: Vec<(String, u16, &str)> = vec![
        // The query parser: nesting, length, terms, what tantivy would choke on.
        (
            format!("/search?query={nested}"),
            400,
            "nested deeper than 32 levels",
        ),
        (
            format!("/search?query=brca1&with={nested}"),
            400,
            "nested deeper than 32 levels",
        ),
        (
            format!("/search?query={nots}"),
            400,
            "nested deeper than 32 levels",
        ),
        (
            format!("/search?query={long}"),
            400,
            "longer than 4096 bytes",
        ),
        (
            format!("/search?query={many_terms}"),
            400,
            "more than 100 terms",
        ),
        (
            "/search?query=mention:/a.*/".into(),
            400,
            "regular expressions",
        ),
        // Control characters and invalid UTF-8.
        (
            "/search?query=brca1%00".into(),
            400,
            "control character (U+0000)",
        ),
        (
            "/search?query=brca1&type=%00".into(),
            400,
            "type holds a control character (U+0000)",
        ),
        (
            "/search?query=brca1&with=a%07".into(),
            400,
            "control character (U+0007)",
        ),
        ("/search?query=%FF".into(), 400, "not valid utf-8"),
        (
            "/search?query=brca1&type=%C3%28".into(),
            400,
            "not valid utf-8",
        ),
        // Empty and oversized values.
        ("/search?query=".into(), 400, "the query is empty"),
        ("/search?query=%20%20".into(), 400, "the query is empty"),
        (
            "/search?query=brca1&with=".into(),
            400,
            "the query is empty",
        ),
        (
            format!("/search?query=brca1&type={long_type}"),
            400,
            "longer than 100 bytes",
        ),
        ("/search?query=brca1&limit=".into(), 400, "limit"),
        // Numbers out of range.
        ("/search?query=brca1&limit=-1".into(), 400, "limit"),
        (
            "/search?query=brca1&limit=18446744073709551616".into(),
            400,
            "limit",
        ),
        (
            "/search?query=brca1&offset=18446744073709551615".into(),
            400,
            "offset + limit",
        ),
        (
            "/search?query=brca1&offset=9995".into(),
            400,
            "offset + limit",
        ),
        (
            "/search?query=brca1&year_from=99999999999".into(),
            400,
            "year_from",
        ),
        (
            "/search?query=brca1&facet_limit=-1".into(),
            400,
            "facet_limit",
        ),
        ("/search?query=brca1&facets=maybe".into(), 400, "facets"),
        (
            "/search?query=brca1&query=brca2".into(),
            400,
            "duplicate field",
        ),
        // Documents.
        (
            "/documents/pmid:1%00x".into(),
            400,
            "control character (U+0000)",
        ),
        (
            "/documents/pmid:1%00x/pubtator".into(),
            400,
            "control character (U+0000)",
        ),
        (
            "/documents/pmid:1%00x/bioc".into(),
            400,
            "control character (U+0000)",
        ),
        (
            "/documents/pmid:1%0A".into(),
            400,
            "control character (U+000A)",
        ),
        ("/documents/%FF".into(), 400, "not valid utf-8"),
        ("/documents/%FF/bioc".into(), 400, "not valid utf-8"),
        ("/documents/%20".into(), 400, "the document id is empty"),
        (
            format!("/documents/pmid:{long_id}"),
            400,
            "longer than 256 bytes",
        ),
        ("/documents/pmid:999".into(), 404, "no document"),
        ("/documents/pmid:999/pubtator".into(), 404, "no document"),
        ("/documents/".into(), 404, "no such route"),
        ("/nowhere".into(), 404, "no such route"),
        // Top entities.
        (
            "/entities/top?type=%00".into(),
            400,
            "control character (U+0000)",
        ),
        ("/entities/top?type=%FF".into(), 400, "not valid utf-8"),
        (
            format!("/entities/top?type={long_type}"),
            400,
            "longer than 100 bytes",
        ),
        ("/entities/top?limit=-5".into(), 400, "limit"),
        (
            "/entities/top?limit=99999999999999999999999".into(),
            400,
            "limit",
        ),
        ("/entities/top?colour=blue".into(), 400, "unknown field"),
    ];
    for (path, want, reason) in &cases {
        let (status, body) = get(base, path).await;
        let shown: String = path.chars().take(80).collect();
        assert_eq!(status, *want, "{shown}: {body}");
        let v: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{shown}: not JSON: {body}"));
        let error = v["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(reason),
            "{shown}: {error:?} lacks {reason:?}"
        );
        assert!(
            error.starts_with(|c: char| !c.is_uppercase()),
            "{shown}: {error:?}"
        );
        assert!(error.len() < 300, "{shown}: a long error: {error:?}");
    }

    // Still serving, and still right.
    assert_eq!(get(base, "/health").await, (200, "ok".to_string()));
    let (status, body) = get(base, "/search?query=brca1&limit=1").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["total"], 12, "{body}");
    // An empty type is no filter, in both places.
    let (status, body) = get(base, "/search?query=brca1&type=&limit=1").await;
    assert_eq!((status, &v), (200, &serde_json::from_str(&body).unwrap()));
    let (status, body) = get(base, "/entities/top?type=&limit=1").await;
    assert_eq!(status, 200, "{body}");

    // A failure of the database is a 500 that says nothing of the database.
    pubmine_store::admin_execute(&db.pool, "DROP VIEW top_entities CASCADE")
        .await
        .unwrap();
    let (status, body) = get(base, "/entities/top?type=Gene").await;
    assert_eq!(status, 500, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["error"], "internal error (the details are in the server's log)",
        "{body}"
    );
    assert!(!body.contains("top_entities"), "{body}");
    assert_eq!(get(base, "/health").await.0, 200);
    db.drop_db().await;
}

/// A server started without the index or without the database answers 503 on what needs it,
/// and still serves the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_was_not_configured_is_503_with_its_option() {
    let (db, dir) = filled().await;
    let no_index = router(Api {
        searcher: None,
        pool: Some(db.pool.clone()),
    });
    let (status, body) = get(&no_index, "/search?query=brca1").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("without --index"), "{body}");
    assert_eq!(get(&no_index, "/documents/pmid:3").await.0, 200);

    let no_db = router(Api {
        searcher: Some(Searcher::open(dir.path()).unwrap()),
        pool: None,
    });
    for path in [
        "/documents/pmid:3",
        "/documents/pmid:3/bioc",
        "/entities/top",
    ] {
        let (status, body) = get(&no_db, path).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert!(body.contains("without --database-url"), "{path}: {body}");
    }
    assert_eq!(get(&no_db, "/search?query=brca1").await.0, 200);
    db.drop_db().await;
}

/// The page and its files come from the crate, each with its type and a policy that lets it
/// load nothing from elsewhere.
#[tokio::test]
async fn the_page_is_served_with_its_types_and_a_content_policy() {
    let app = router(Api::default());
    for (path, ty, needle) in [
        ("/", "text/html", "<html"),
        ("/page/app.js", "text/javascript", "fetch("),
        ("/page/style.css", "text/css", "{"),
    ] {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(ty),
            "{path}"
        );
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'self'"),
            "{path}"
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains(needle), "{path}");
    }
}
