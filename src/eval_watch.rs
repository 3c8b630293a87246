//! `claimtrail eval-watch --corpus DIR`: a corpus of multi-version documents
//! (`<title>/<k>.txt`, k = 0 the oldest) replayed through the whole
//! watcher. A throwaway PostgreSQL cluster holds a fresh ledger; a web
//! server on 127.0.0.1 serves each document's current version as an article
//! page whose chrome changes on every request (see `eval_page_changes`);
//! one watch per document polls it twice per version, through the fetcher,
//! the page reader, the version rule and the article intake. Counted: the
//! revisions recorded against the versions with new words, false changes
//! (a revision on the second poll of a version, or for a version whose
//! words did not change), missed changes, failed polls.

use std::fs;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use claimtrail::config::EvalPageChangesArgs;
use claimtrail::domain::outlet::change::version_key;
use claimtrail::domain::story::NewStory;
use claimtrail::domain::watch::NewWatch;
use claimtrail::fetcher::FetchSettings;
use claimtrail::fetcher::guard::AddressPolicy;
use claimtrail::storage::article_intake::IntakeSettings;
use claimtrail::storage::cluster::{Cluster, ClusterOptions};
use claimtrail::storage::events::AuditContext;
use claimtrail::storage::{migrate, pool, stories, watches};
use claimtrail::watcher::{PollReport, Watcher, WatcherSettings};
use serde::Serialize;

use crate::eval_page_changes::{Churn, read_corpus};

#[derive(Debug, Default, Serialize)]
struct Report {
    documents: usize,
    versions: usize,
    /// Versions whose words differ from the one before (each document's
    /// first counts): what the watcher must record.
    distinct_versions: usize,
    polls: usize,
    /// Article revisions in the ledger at the end (first versions included).
    revisions_recorded: i64,
    /// Documents whose article has as many revisions as distinct versions.
    documents_exact: usize,
    false_changes: usize,
    missed_changes: usize,
    failed_polls: usize,
    /// The fetched pages kept with the revisions: how many, their size and
    /// their size compressed.
    pages_kept: i64,
    page_bytes: i64,
    page_bytes_compressed: i64,
    seconds: f64,
}

#[derive(diesel::QueryableByName)]
struct Kept {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pages: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bytes: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    compressed: i64,
}

/// What the local server answers: each document's current text.
type Served = Arc<Mutex<Vec<Option<String>>>>;

pub fn run(args: &EvalPageChangesArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let documents = read_corpus(&args.corpus)?;
    anyhow::ensure!(
        !documents.is_empty(),
        "no documents in {}",
        args.corpus.display()
    );

    let dir = std::env::temp_dir().join(format!("claimtrail-eval-watch-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    let mut cluster = Cluster::open(
        &dir,
        ClusterOptions {
            throwaway: true,
            must_exist: false,
            ..ClusterOptions::default()
        },
    )?;
    cluster.start()?;
    let result = (|| {
        cluster.ensure_database("claimtrail_eval")?;
        let url = cluster.database_url("claimtrail_eval");
        migrate::run_pending(&url)?;
        actix_web::rt::System::new().block_on(replay(&url, &documents))
    })();
    let stopped = cluster.stop();
    let _ = fs::remove_dir_all(&dir);
    let mut report = result?;
    stopped?;
    report.seconds = started.elapsed().as_secs_f64();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} documents, {} versions ({} with new words), {} polls in {:.1} s\n\
             revisions recorded {} | documents with one revision per distinct version {} of {} | \
             false changes {} | missed changes {} | failed polls {}\n\
             pages kept with their revisions {} ({:.1} MB, {:.1} MB compressed)",
            report.documents,
            report.versions,
            report.distinct_versions,
            report.polls,
            report.seconds,
            report.revisions_recorded,
            report.documents_exact,
            report.documents,
            report.false_changes,
            report.missed_changes,
            report.failed_polls,
            report.pages_kept,
            report.page_bytes as f64 / 1e6,
            report.page_bytes_compressed as f64 / 1e6
        );
    }
    Ok(())
}

async fn replay(url: &str, documents: &[Vec<String>]) -> anyhow::Result<Report> {
    let served: Served = Arc::new(Mutex::new(vec![None; documents.len()]));
    let churn = Arc::new(Mutex::new(Churn(0x5eed)));
    let pages = served.clone();
    let server = HttpServer::new(move || {
        let pages = pages.clone();
        let churn = churn.clone();
        App::new().route(
            "/doc/{i}",
            web::get().to(move |i: web::Path<usize>| {
                let text = pages
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(*i)
                    .cloned()
                    .flatten();
                let page = text.map(|t| churn.lock().unwrap_or_else(|e| e.into_inner()).page(&t));
                async move {
                    match page {
                        Some(html) => HttpResponse::Ok()
                            .content_type("text/html; charset=utf-8")
                            .body(html),
                        None => HttpResponse::NotFound().finish(),
                    }
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")?;
    let address = server.addrs()[0];
    let handle = server.run();
    let stop = handle.handle();
    actix_web::rt::spawn(handle);

    let db = pool::build_pool(
        url,
        &pool::PoolSettings {
            max_size: 2,
            wait_timeout: std::time::Duration::from_secs(30),
            statement_timeout: std::time::Duration::from_secs(60),
        },
    )?;
    let ctx = AuditContext::system("eval");
    let mut conn = db.get().await?;
    let story = stories::create(
        &mut conn,
        &ctx,
        NewStory {
            title: "Replayed documents".into(),
            slug: None,
            description: None,
        }
        .validate()?,
    )
    .await?;
    let mut watch_ids = Vec::with_capacity(documents.len());
    for i in 0..documents.len() {
        let watch = NewWatch {
            url: format!("http://{address}/doc/{i}"),
            story_id: Some(story.id),
            filing: None,
            keywords: None,
            interval_s: None,
            extract: None,
        }
        .validate()?;
        watch_ids.push(watches::create(&mut conn, &ctx, &watch).await?.id);
    }
    drop(conn);
    let watcher = Watcher::new(WatcherSettings {
        fetch: FetchSettings {
            // The local server is the only outlet: no pause between requests.
            policy: AddressPolicy {
                allow_private: true,
            },
            host_delay: std::time::Duration::ZERO,
            ..FetchSettings::default()
        },
        intake: IntakeSettings::default(),
        max_body_chars: 2 * 1024 * 1024,
        concurrency: 1,
        tick: None,
    })?;

    let mut report = Report {
        documents: documents.len(),
        ..Report::default()
    };
    let recorded = |r: &PollReport| r.created.len() + r.revised.len();
    // Distinct versions per document, counted as the replay meets them.
    let mut distinct = vec![0usize; documents.len()];
    let longest = documents.iter().map(Vec::len).max().unwrap_or(0);
    for step in 0..longest {
        for (i, versions) in documents.iter().enumerate() {
            let Some(text) = versions.get(step) else {
                continue;
            };
            report.versions += 1;
            let changed = step == 0 || version_key(&versions[step - 1]) != version_key(text);
            if changed {
                report.distinct_versions += 1;
                distinct[i] += 1;
            }
            served.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(text.clone());
            for fetch in 0..2 {
                let poll = watcher.poll_now(&db, watch_ids[i]).await?;
                report.polls += 1;
                if poll.error.is_some() || poll.failed > 0 || poll.unreadable > 0 {
                    report.failed_polls += 1;
                }
                let n = recorded(&poll);
                if fetch == 0 && changed {
                    if n == 0 {
                        report.missed_changes += 1;
                    }
                    report.false_changes += n.saturating_sub(1);
                } else {
                    report.false_changes += n;
                }
            }
        }
    }
    let mut conn = db.get().await?;
    for (i, distinct) in distinct.into_iter().enumerate() {
        let url = format!("http://{address}/doc/{i}");
        let revisions = claimtrail::storage::articles::find_by_url(&mut conn, &url)
            .await?
            .map_or(0, |a| i64::from(a.revision));
        report.revisions_recorded += revisions;
        if usize::try_from(revisions).ok() == Some(distinct) {
            report.documents_exact += 1;
        }
    }
    let kept: Kept = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT count(*) AS pages, coalesce(sum(page_bytes), 0)::bigint AS bytes, \
             coalesce(sum(octet_length(page_gzip)), 0)::bigint AS compressed FROM article_captures",
        ),
        &mut conn,
    )
    .await?;
    report.pages_kept = kept.pages;
    report.page_bytes = kept.bytes;
    report.page_bytes_compressed = kept.compressed;
    stop.stop(true).await;
    Ok(report)
}
