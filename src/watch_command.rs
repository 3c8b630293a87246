//! `claimtrail watch add|list|run-once`: the same storage and poll code as
//! the API's `/v1/watches` routes, on the configured database.

use claimtrail::config::WatchCommand;
use claimtrail::domain::watch::NewWatch;
use claimtrail::storage::article_intake::IntakeSettings;
use claimtrail::storage::{all_pages, pool, watches};
use claimtrail::watcher::{Watcher, WatcherSettings};

use super::{cli_actor, with_database, with_database_at};

pub fn run(command: WatchCommand) -> anyhow::Result<()> {
    match command {
        WatchCommand::Add {
            db,
            url,
            story,
            keywords,
            interval,
            extract,
        } => {
            let new = NewWatch {
                url,
                story_id: story,
                filing: None,
                keywords: (!keywords.is_empty()).then_some(keywords),
                interval_s: interval,
                extract: Some(extract),
            }
            .validate()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let watch = with_database(&db, async |conn| {
                watches::create(conn, &cli_actor(), &new).await
            })?;
            println!(
                "watch {} added: {} every {} s, filing: {}",
                watch.id, watch.url, watch.interval_s, watch.filing
            );
        }
        WatchCommand::List { db } => {
            let all = with_database(&db, async |conn| {
                all_pages(async |page| watches::list(conn, page).await).await
            })?;
            println!("id\tstate\tlast poll\toutcome\tfailures\turl");
            for w in all {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    w.id,
                    if w.paused { "paused" } else { "active" },
                    w.last_polled_at.map_or_else(
                        || "-".to_owned(),
                        |t| t.format("%Y-%m-%d %H:%M").to_string()
                    ),
                    w.last_outcome.map_or("-", |o| o.as_str()),
                    w.consecutive_failures,
                    w.url
                );
            }
        }
        WatchCommand::RunOnce {
            db,
            fetch,
            id,
            max_article_chars,
        } => {
            let watcher = Watcher::new(WatcherSettings {
                fetch: fetch.fetch_settings(),
                intake: IntakeSettings::default(),
                max_body_chars: max_article_chars,
                concurrency: 1,
                tick: None,
            })?;
            let reports = with_database_at(&db, async |_conn, url| {
                let settings = pool::PoolSettings {
                    max_size: 2,
                    wait_timeout: std::time::Duration::from_secs(30),
                    statement_timeout: std::time::Duration::from_secs(30),
                };
                let pool = pool::build_pool(url, &settings)?;
                match id {
                    Some(id) => Ok(vec![watcher.poll_now(&pool, id).await?]),
                    None => watcher.poll_due(&pool, 1_000).await,
                }
            })?;
            for report in reports {
                println!("{}", serde_json::to_string(&report)?);
            }
        }
    }
    Ok(())
}
