//! A web site on 127.0.0.1 for tests of fetching outlets: answers set per
//! path, every request recorded (path, headers), how many were in flight
//! at once, and nothing else reachable. One thread per connection, one
//! request per connection (`Connection: close`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One answer: status, headers, body; `delay` before answering.
#[derive(Clone, Default)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Answer {
    pub fn ok(media_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), media_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            ..Answer::default()
        }
    }

    pub fn redirect(to: &str) -> Answer {
        Answer {
            status: 302,
            headers: vec![("Location".into(), to.into())],
            ..Answer::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A request as the site saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
}

type Responder = Box<dyn Fn(&Seen) -> Answer + Send + Sync>;

#[derive(Clone)]
pub struct FixtureSite {
    pub base: String,
    routes: Arc<Mutex<HashMap<String, Arc<Responder>>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    in_flight: Arc<AtomicUsize>,
    most_in_flight: Arc<AtomicUsize>,
}

impl FixtureSite {
    pub fn start() -> FixtureSite {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let site = FixtureSite {
            base: format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port()),
            routes: Arc::default(),
            seen: Arc::default(),
            in_flight: Arc::default(),
            most_in_flight: Arc::default(),
        };
        let serving = site.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let site = serving.clone();
                std::thread::spawn(move || site.serve(stream));
            }
        });
        site
    }

    /// Answers `path` (query included) with `answer` from now on.
    pub fn set(&self, path: &str, answer: Answer) {
        self.set_with(path, move |_| answer.clone());
    }

    /// Answers `path` by calling `respond` with each request.
    pub fn set_with(&self, path: &str, respond: impl Fn(&Seen) -> Answer + Send + Sync + 'static) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_owned(), Arc::new(Box::new(respond)));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn hits(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }

    /// The most requests it was answering at one time.
    pub fn most_in_flight(&self) -> usize {
        self.most_in_flight.load(Ordering::SeqCst)
    }

    fn serve(&self, stream: TcpStream) {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let _ = self.answer(stream);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    fn answer(&self, mut stream: TcpStream) -> std::io::Result<()> {
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let seen = Seen {
            path: path.clone(),
            headers,
        };
        self.seen.lock().unwrap().push(seen.clone());
        let route = self.routes.lock().unwrap().get(&path).cloned();
        let answer = match route {
            Some(respond) => respond(&seen),
            None => Answer::status(404),
        };
        std::thread::sleep(answer.delay);
        let mut head = format!(
            "HTTP/1.1 {} X\r\nConnection: close\r\nContent-Length: {}\r\n",
            answer.status,
            answer.body.len()
        );
        for (name, value) in &answer.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(&answer.body)?;
        stream.flush()
    }
}
