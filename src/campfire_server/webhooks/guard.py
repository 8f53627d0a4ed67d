"""The SSRF guard: webhooks may only reach public addresses.

Saving a webhook checks the URL's form and, when its host is an address
literal, a loopback or other reserved name, or a name of the machine's hosts
file, those addresses (``check_url``). It sends no DNS query, so a host that does not
resolve yet, or a slow resolver, never blocks or fails the request.
Before every attempt the host is resolved and each address is checked
(``check_destination``), and the attempt connects only to an address that
passed (see ``delivery``), so a name that changes between the check and
the connection cannot redirect it. Both first map the host to ASCII
(``ascii_host``: NFKC, lowercase, IDNA), so ``ｌｏｃａｌｈｏｓｔ`` is
checked as ``localhost``.

In production every address that is not globally routable is rejected:
loopback, private, shared (100.64.0.0/10), link-local (which includes the
cloud metadata address 169.254.169.254), multicast, reserved and
unspecified addresses (also fe00::/9 and the site-local fec0::/10, which
Python 3.11 counts as global), and IPv6 forms that embed such an IPv4 address
(NAT64, 6to4, Teredo, IPv4-compatible). In development and test mode loopback is allowed,
so a receiver on 127.0.0.1 works. ``CAMPFIRE_WEBHOOK_ALLOWED_HOSTS`` lists
host names, addresses or CIDR networks that pass in any mode.

Names are resolved by ``resolver``, the system resolver unless
``set_resolver`` replaced it. With ``webhook_dns_lookups`` off only address
literals and localhost resolve, so no DNS query leaves the machine.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import idna

from ..config import Settings
from ..errors import ValidationFailed
from ..url_syntax import UrlSyntaxError, split_url, url_port

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

MAX_URL_LENGTH = 2048
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}
# IPv6 prefixes that carry an IPv4 address in their low 32 bits (RFC 6052
# and RFC 4291), so a NAT64 gateway or the host's own stack sends to that IPv4.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# The local-use NAT64 prefix (RFC 8215) may place the IPv4 address at
# several offsets and only private networks route it, so all of it is rejected.
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
# Reserved by IETF (RFC 4291), below the link-local fe80::/10.
RESERVED_UNICAST_IPV6 = ipaddress.ip_network("fe00::/9")
URL_EXPECTED = (
    "an absolute http:// or https:// URL with a public host name, at most 2048 characters"
)


class DestinationRejected(ValidationFailed):
    """The webhook URL is malformed or reaches an address the guard forbids."""


class ResolutionFailed(Exception):
    """The host name did not resolve; a later attempt may succeed."""


@dataclass(frozen=True, slots=True)
class Destination:
    scheme: str
    host: str
    port: int


# The user information of a URL: after the scheme's "//", up to the last "@"
# before the path, query or fragment.
_USER_INFO = re.compile(r"(//)[^/?#]*@")


def shown_url(url: str) -> str:
    """Return ``url`` as an error may show it: user information hidden, at most 200 characters.

    Responses and logs carry the value, and a URL that fails an earlier rule
    may still hold a password.
    """
    return _USER_INFO.sub(r"\1***@", url, count=1)[:200]


def parse_url(url: str, field: str = "url") -> Destination:
    """Check the form of a webhook URL and return its scheme, host and port."""
    if len(url) > MAX_URL_LENGTH:
        raise DestinationRejected(
            f"{field} has {len(url)} characters; the limit is {MAX_URL_LENGTH}",
            field=field,
            value=shown_url(url),
            expected=URL_EXPECTED,
        )
    if url != url.strip() or any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise DestinationRejected(
            f"{field} contains spaces or control characters",
            field=field,
            value=shown_url(url),
            expected=URL_EXPECTED,
        )
    try:
        parts = split_url(url)
        port = url_port(parts)
    except UrlSyntaxError as error:
        raise DestinationRejected(
            f"{field} is not a valid URL because {error}",
            field=field,
            value=shown_url(url),
            expected=URL_EXPECTED,
        ) from None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise DestinationRejected(
            f"{field} must be an absolute http or https URL",
            field=field,
            value=shown_url(url),
            expected=URL_EXPECTED,
        )
    if parts.fragment:
        raise DestinationRejected(
            f"{field} must not contain a #fragment",
            field=field,
            value=shown_url(url),
            expected=URL_EXPECTED,
        )
    if "@" in parts.netloc:
        raise DestinationRejected(
            f"{field} must not contain credentials (user:password@); every response shows "
            "the webhook URL, so check the webhook-signature header with the webhook's "
            "secret instead",
            field=field,
            value=shown_url(url),
            expected=URL_EXPECTED,
        )
    if "%" in host:
        raise DestinationRejected(
            f"{field} has a percent-encoded or zoned host ({host}), so write the host name or "
            "address plainly",
            field=field,
            value=shown_url(url),
            expected=URL_EXPECTED,
        )
    if port == 0:
        raise DestinationRejected(
            f"{field} has port 0, which no server listens on; give a port from 1 to 65535, "
            "or none for the scheme's default",
            field=field,
            value=shown_url(url),
            expected=URL_EXPECTED,
        )
    default_port = 443 if parts.scheme == "https" else 80
    return Destination(parts.scheme, ascii_host(host, url, field), port or default_port)


# The characters of a host name once ``ascii_host`` mapped it to ASCII.
_HOST_NAME = re.compile(r"[a-z0-9._-]+")


def ascii_host(host: str, url: str, field: str = "url") -> str:
    """Map ``host`` to the ASCII name that URL parsers and resolvers connect to.

    NFKC folds compatibility forms such as full-width letters, so
    ``ｌｏｃａｌｈｏｓｔ`` becomes ``localhost``, and IDNA (UTS 46 mapping, as
    WHATWG URL parsers apply it) encodes the rest, such as the ideographic
    full stop and non-ASCII labels. The reserved-name and address checks
    then see the host a client would really reach.

    Raises:
        DestinationRejected: the host is not a valid internationalized name.
    """
    if ":" in host:
        # An IPv6 literal, which urlsplit already checked to be ASCII brackets.
        return host.lower()
    name = unicodedata.normalize("NFKC", host).lower()
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError:
            # The library's message names code points and positions in its own
            # terms, so the error names the rule instead.
            raise DestinationRejected(
                f"{field} host {host!r} is not a valid internationalized domain name under "
                "IDNA 2008 (UTS 46 mapping); write each label in letters, digits and hyphens, "
                "or in its xn-- form",
                field=field,
                value=shown_url(url),
                expected=URL_EXPECTED,
            ) from None
    if not _HOST_NAME.fullmatch(name):
        raise DestinationRejected(
            f"{field} host {host!r} reads as {name!r}, which is not a host name; write the "
            "host with letters, digits, dots and hyphens",
            field=field,
            value=shown_url(url),
            expected=URL_EXPECTED,
        )
    return name


def _allowlisted(settings: Settings, host: str, address: IPAddress | None) -> bool:
    host = normal_host(host)
    for entry in settings.webhook_allowed_hosts:
        entry = entry.strip().lower()
        if not entry:
            continue
        if normal_host(entry) == host:
            return True
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def forbidden_reason(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Return why ``address`` may not be a webhook target, or None when it may.

    An IPv6 address that embeds an IPv4 address (NAT64, 6to4, Teredo or the
    IPv4-compatible form) is rejected when the IPv4 address would be, even
    loopback in development, because a gateway, not this host, receives it.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in NAT64_LOCAL_USE:
            return "a local-use NAT64 address (64:ff9b:1::/48), which only private networks route"
        else:
            for form, embedded in _embedded_ipv4(address):
                reason = forbidden_reason(embedded, allow_loopback=False)
                if reason is not None:
                    return f"{form} embedding {embedded}, {reason}"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if isinstance(address, ipaddress.IPv6Address):
        # Python 3.11 counts these two unassigned or deprecated ranges as global.
        if address in RESERVED_UNICAST_IPV6:
            return "a reserved address"
        if address.is_site_local:
            return "a site-local address"
    if not address.is_global:
        return "an address that is not publicly routable"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """Return the IPv4 addresses that ``address`` carries, each with the name of its form."""
    low_bits = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in NAT64_WELL_KNOWN:
        return [("a NAT64 address", low_bits)]
    if address in IPV4_COMPATIBLE and int(address) > 1:
        return [("an IPv4-compatible address", low_bits)]
    if address.sixtofour is not None:
        return [("a 6to4 address", address.sixtofour)]
    if address.teredo is not None:
        server, client = address.teredo
        return [("a Teredo address with server", server), ("a Teredo address with client", client)]
    return []


def _literal(host: str) -> IPAddress | None:
    """Parse an address literal, including the legacy IPv4 forms such as ``2130706433``.

    ``AI_NUMERICHOST`` makes the system parse the name as a number only, so
    this never sends a DNS query.
    """
    # A trailing dot names the same host, so "127.0.0.1." is 127.0.0.1.
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(infos[0][4][0])


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Resolve ``host`` with the operating system's resolver (hosts file, then DNS)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ResolutionFailed(f"the host {host!r} did not resolve: {error}") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ResolutionFailed(f"the host {host!r} has no addresses")
    return addresses


LOCALHOST_ADDRESSES = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
# Names that reach this machine without a DNS query: the reserved
# ``localhost`` domain (RFC 6761) and the loopback aliases that Linux
# distributions write into their hosts files.
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
# Other names that Debian-style hosts files give to reserved IPv6 addresses
# (multicast groups, the multicast prefix and the reserved fe00::), and the
# macOS name of the IPv4 broadcast address. They count as these addresses even when
# the hosts file lacks them, so saving and delivery reject them alike.
RESERVED_NAMES: dict[str, IPAddress] = {
    "ip6-localnet": ipaddress.ip_address("fe00::"),
    "ip6-mcastprefix": ipaddress.ip_address("ff00::"),
    "ip6-allnodes": ipaddress.ip_address("ff02::1"),
    "ip6-allrouters": ipaddress.ip_address("ff02::2"),
    "ip6-allhosts": ipaddress.ip_address("ff02::3"),
    "broadcasthost": ipaddress.ip_address("255.255.255.255"),
}
HOSTS_FILE = Path("/etc/hosts")

# (path, modification time, size) and the names the file maps to addresses.
_hosts_cache: tuple[tuple[str, int, int], dict[str, list[IPAddress]]] | None = None


def normal_host(host: str) -> str:
    """Return ``host`` lowercased without brackets or trailing dots, as resolvers compare it."""
    return host.strip("[]").lower().rstrip(".")


def is_localhost(host: str) -> bool:
    """Tell whether ``host`` is a loopback name, in any case and with any trailing dot."""
    name = normal_host(host)
    return name in LOOPBACK_NAMES or name.endswith(".localhost")


def parse_hosts(text: str) -> dict[str, list[IPAddress]]:
    """Map each name of a hosts file to its addresses, in the file's order."""
    names: dict[str, list[IPAddress]] = {}
    for line in text.splitlines():
        fields = line.partition("#")[0].split()
        if len(fields) < 2:
            continue
        try:
            address = ipaddress.ip_address(fields[0].partition("%")[0])
        except ValueError:
            continue
        for name in fields[1:]:
            addresses = names.setdefault(normal_host(name), [])
            if address not in addresses:
                addresses.append(address)
    return names


def hosts_file_addresses(host: str) -> list[IPAddress]:
    """Return the addresses that the hosts file gives ``host``, without any DNS query.

    The file is read again when its modification time or size changes. A
    missing or unreadable file counts as empty.
    """
    global _hosts_cache
    path = HOSTS_FILE
    try:
        status = path.stat()
        stamp = (str(path), status.st_mtime_ns, status.st_size)
        if _hosts_cache is None or _hosts_cache[0] != stamp:
            _hosts_cache = (stamp, parse_hosts(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return []
    return list(_hosts_cache[1].get(normal_host(host), ()))


def reserved_addresses(host: str) -> list[IPAddress]:
    """Return the addresses that a loopback or ``RESERVED_NAMES`` name stands for, else []."""
    if is_localhost(host):
        return list(LOCALHOST_ADDRESSES)
    reserved = RESERVED_NAMES.get(normal_host(host))
    return [reserved] if reserved is not None else []


def local_addresses(host: str) -> list[IPAddress]:
    """Return the addresses of ``host`` known without DNS (reserved names, the hosts file)."""
    addresses = reserved_addresses(host)
    for address in hosts_file_addresses(host):
        if address not in addresses:
            addresses.append(address)
    return addresses


async def localhost_resolver(host: str, port: int) -> list[IPAddress]:
    """Resolve loopback names and hosts file names without DNS and fail on every other name."""
    addresses = local_addresses(host)
    if addresses:
        return addresses
    raise ResolutionFailed(
        f"the host {host!r} was not looked up because webhook_dns_lookups is off; "
        "use an address literal such as 127.0.0.1"
    )


_resolver: Resolver | None = None


def set_resolver(resolver: Resolver | None) -> Resolver | None:
    """Resolve host names with ``resolver`` from now on and return the previous one.

    None restores the default: the system resolver, or ``localhost_resolver``
    when ``webhook_dns_lookups`` is off.
    """
    global _resolver
    previous, _resolver = _resolver, resolver
    return previous


async def _resolve(host: str, port: int, settings: Settings) -> list[IPAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    # A reserved name is checked as its reserved address whatever a resolver
    # returns, so delivery rejects every name that saving rejected.
    reserved = reserved_addresses(host)
    if reserved:
        return reserved
    if _resolver is not None:
        return await _resolver(host, port)
    if not settings.webhook_dns_lookups:
        return await localhost_resolver(host, port)
    return await system_resolver(host, port)


def _forbidden(
    settings: Settings, host: str, addresses: list[IPAddress]
) -> list[tuple[IPAddress, str]]:
    """Return each address of ``host`` that a webhook may not reach, with the reason."""
    allow_loopback = settings.env != "production"
    found = []
    for address in addresses:
        if _allowlisted(settings, host, address):
            continue
        reason = forbidden_reason(address, allow_loopback=allow_loopback)
        if reason is not None:
            found.append((address, reason))
    return found


def _rejection(
    url: str, host: str, forbidden: list[tuple[IPAddress, str]], field: str
) -> DestinationRejected:
    listed = ", ".join(f"{address} ({reason})" for address, reason in forbidden)
    return DestinationRejected(
        f"{field} host {host!r} is {listed}; webhooks may only target public addresses "
        "(an operator can allow this host with CAMPFIRE_WEBHOOK_ALLOWED_HOSTS)",
        field=field,
        value=shown_url(url),
        expected=URL_EXPECTED,
    )


def check_url(url: str, settings: Settings, field: str = "url") -> Destination:
    """Check a webhook URL as it is saved, without any DNS query, and return its destination.

    A host that is an address literal, a loopback name (``localhost``,
    ``*.localhost``, ``localhost.localdomain``, ``ip6-localhost``,
    ``ip6-loopback``, in any case and with trailing dots), a name of
    ``RESERVED_NAMES`` (``ip6-allnodes`` and the like) or a name of the
    hosts file is checked like a resolved address. Any other name is
    accepted here and checked at delivery time by ``check_destination``.

    Raises:
        DestinationRejected: the URL is malformed, or its host is an address
            (or a name known without DNS) that a webhook may not reach.
    """
    destination = parse_url(url, field)
    literal = _literal(destination.host)
    addresses = [literal] if literal is not None else local_addresses(destination.host)
    if not addresses:
        return destination
    forbidden = _forbidden(settings, destination.host, addresses)
    if forbidden:
        raise _rejection(url, destination.host, forbidden, field)
    return destination


async def check_destination(url: str, settings: Settings, field: str = "url") -> list[str]:
    """Resolve ``url`` at delivery time and return the addresses an attempt may connect to.

    The addresses keep the resolver's order. An address that a webhook may
    not reach is left out, so an attempt never connects to it, even when the
    same name also resolves to a public address.

    Raises:
        DestinationRejected: the URL is malformed, or every address it
            resolves to is forbidden.
        ResolutionFailed: the host did not resolve.
    """
    destination = parse_url(url, field)
    addresses = await _resolve(destination.host, destination.port, settings)
    forbidden = _forbidden(settings, destination.host, addresses)
    if len(forbidden) == len(addresses):
        raise _rejection(url, destination.host, forbidden, field)
    blocked = {address for address, _reason in forbidden}
    return [str(address) for address in addresses if address not in blocked]
