//! Proxy URLs as the registry's HTTP client reads `HTTP_PROXY`/`HTTPS_PROXY` (Go's
//! `x/net/http/httpproxy`): a URL, or a `host[:port]` taken as `http://host[:port]`. The
//! messages never repeat the value: it may carry a password.

/// Whether `value` is a proxy address the registry can use (empty: none).
pub fn proxy_url(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a proxy URL may not contain spaces or control characters".to_owned());
    }
    let rest = match value.split_once("://") {
        Some((scheme, rest)) => {
            if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https" | "socks5" | "socks5h") {
                return Err("the proxy URL's scheme must be http, https or socks5".to_owned());
            }
            rest
        }
        None => value,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (inside, after) = bracketed.split_once(']').ok_or("the proxy URL's IPv6 host lacks its ']'")?;
        if inside.is_empty() || !inside.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err("the proxy URL's host is not an IPv6 address".to_owned());
        }
        match after {
            "" => (inside, None),
            _ => (inside, Some(after.strip_prefix(':').ok_or("the proxy URL has text after its IPv6 host")?)),
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return Err("the proxy URL has no host".to_owned());
    }
    let host_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':');
    if !host.chars().all(host_char) {
        return Err("the proxy URL's host is not a host name or an IP address".to_owned());
    }
    if let Some(port) = port
        && (port.is_empty()
            || !port.chars().all(|c| c.is_ascii_digit())
            || !(1..=65535).contains(&port.parse::<u32>().unwrap_or(0)))
    {
        return Err("the proxy URL's port must be a number from 1 to 65535".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_as_the_registry_reads_them() {
        for good in [
            "",
            "http://proxy.example.com:3128",
            "https://user:pass@proxy:443/",
            "proxy.example.com:3128",
            "http://[fd00::1]:3128",
            "socks5://10.0.0.1:1080",
            "http://proxy",
        ] {
            assert_eq!(proxy_url(good), Ok(()), "{good}");
        }
        for bad in [
            "::bad",
            "http://",
            "ftp://proxy:21",
            "http://proxy:99999",
            "http://proxy:port",
            "http://pro xy:3128",
            "http://[fd00::1",
            "http://user:secret@bad host:1",
        ] {
            let error = proxy_url(bad).unwrap_err();
            assert!(!error.contains("secret") && !error.contains(bad), "{bad}: the message repeats the value: {error}");
        }
    }
}
