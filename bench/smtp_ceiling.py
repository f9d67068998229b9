"""How close the SMTP channel gets to the ceiling of a local aiosmtpd server.

    .venv/bin/python bench/smtp_ceiling.py                  # N = 20,000 each, locales en/ko/ja
    .venv/bin/python bench/smtp_ceiling.py --count 5000 --locale ko

aiosmtpd runs in a separate process (so its CPU is not ours; it is measured from /proc), and
answers 250 to every mail. Then, over one persistent connection each:

(a) the ceiling: a bare loop of `smtplib.SMTP.sendmail` with pre-built messages (three, one
    per locale, cycled; built once by the channel's composer, so they have the same size and
    line structure as the mails of (b));
(b) the channel: `SmtpChannel.send` of N distinct `Outgoing` items (distinct recipients,
    names, subjects, order numbers; ~8 KB of HTML with inlined styles + a ~1.5 KB text part)
    in one `with` block — parsing addresses, composing the MIME bytes, the SMTP transaction
    and classifying the answer, all included; building the items is not.

It prints msgs/s for both, the ratio, CPU use of the client and the server, the load average
(other work on the machine skews the figures), and what composing one mail costs with the
stdlib `email` package versus `messaging.channels.mime` (why the channel builds its own bytes).
The server counts what it received; the script checks the count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from aftercare.messaging.channels import mime  # noqa: E402
from aftercare.messaging.channels.base import Outcome, Outgoing  # noqa: E402
from aftercare.messaging.channels.config import SmtpConfig  # noqa: E402
from aftercare.messaging.channels.smtp import SmtpChannel  # noqa: E402

SENDER = "Acme Outfitters <orders@acme-outfitters.example>"
NAMES = {
    "en": ["Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Mia", "Ethan"],
    "ko": ["김민준", "이서연", "박지호", "최하은", "정도윤", "강지우", "조서준", "윤하린"],
    "ja": ["佐藤 陽翔", "鈴木 結菜", "高橋 蓮", "田中 葵",
           "伊藤 湊", "渡辺 陽葵", "山本 樹", "中村 凛"],
}  # fmt: skip
COPY = {
    "en": (
        "Thank you for your order #{number}, {name}!",
        "Hi {name}, thank you for shopping with Acme Outfitters. We are packing your order"
        " now and will let you know as soon as it ships.",
        "You might also like",
    ),
    "ko": (
        "{name}님, 주문 #{number}에 감사드립니다!",
        "{name}님, Acme Outfitters를 이용해 주셔서 감사합니다. 지금 주문하신 상품을 포장하고"
        " 있으며 발송되는 대로 알려 드리겠습니다.",
        "함께 보면 좋은 상품",
    ),
    "ja": (
        "{name}様、ご注文 #{number} ありがとうございます",
        "{name}様、Acme Outfitters をご利用いただきありがとうございます。ただいまご注文の商品を"
        "梱包しております。発送しましたらすぐにお知らせいたします。",
        "こちらもおすすめです",
    ),
}
CRLF = b"\r\n"
PRODUCTS = [
    "Trail Runner 2", "Merino Beanie", "Rain Shell", "Camp Mug", "Wool Socks (3)",
    "Down Vest", "Trekking Poles", "Headlamp 400", "Dry Bag 20 L", "Sun Hat",
]  # fmt: skip


def outgoing(number: int, locale: str) -> Outgoing:
    names = NAMES[locale]
    name = names[number % len(names)]
    subject, intro, also = COPY[locale]
    rows = "".join(
        f'<tr><td style="padding:12px 0;border-bottom:1px solid #e5e7eb;font-family:Helvetica,'
        f'Arial,sans-serif;font-size:15px;color:#111827">{product}</td>'
        f'<td style="padding:12px 0;border-bottom:1px solid #e5e7eb;text-align:right;'
        f'font-family:Helvetica,Arial,sans-serif;font-size:15px;color:#111827">'
        f"{(number * 7 + i * 13) % 90 + 10}.00</td></tr>\n"
        for i, product in enumerate(PRODUCTS)
    )
    cards = "".join(
        f'<td style="width:33%;padding:8px;vertical-align:top"><a href="https://acme-outfitters'
        f".example/p/{(number + i) % 400}?utm_source=aftercare&amp;utm_campaign=thank-you&amp;"
        f'm={number}" style="color:#2563eb;text-decoration:none;font-family:Helvetica,Arial,'
        f'sans-serif;font-size:14px"><img src="https://acme-outfitters.example/img/{i}.jpg" '
        f'width="160" alt="" style="display:block;border:0;width:100%;height:auto">'
        f"{PRODUCTS[i]}</a></td>\n"
        for i in range(6)
    )
    html = (
        '<!DOCTYPE html>\n<html lang="' + locale + '"><head><meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width,initial-scale=1">\n'
        f"<title>{subject.format(name=name, number=number)}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f3f4f6">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="background:#f3f4f6"><tr><td align="center" style="padding:24px 12px">\n'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" '
        'style="max-width:600px;width:100%;background:#ffffff;border-radius:8px">\n'
        '<tr><td style="padding:32px 32px 8px;font-family:Helvetica,Arial,sans-serif;'
        'font-size:22px;font-weight:bold;color:#111827">'
        + subject.format(name=name, number=number)
        + "</td></tr>\n"
        '<tr><td style="padding:8px 32px 24px;font-family:Helvetica,Arial,sans-serif;'
        'font-size:16px;line-height:1.5;color:#374151">' + intro.format(name=name) + "</td></tr>\n"
        '<tr><td style="padding:0 32px"><table role="presentation" width="100%" '
        'cellpadding="0" cellspacing="0">\n' + rows + "</table></td></tr>\n"
        '<tr><td style="padding:24px 32px 8px;font-family:Helvetica,Arial,sans-serif;'
        'font-size:18px;font-weight:bold;color:#111827">' + also + "</td></tr>\n"
        '<tr><td style="padding:0 24px 24px"><table role="presentation" width="100%"><tr>\n'
        + cards
        + "</tr></table></td></tr>\n"
        '<tr><td style="padding:16px 32px;font-family:Helvetica,Arial,sans-serif;font-size:14px;'
        'line-height:1.5;color:#374151;background:#f9fafb">'
        + intro.format(name=name)
        + "</td></tr>\n"
        '<tr><td style="padding:24px 32px;font-family:Helvetica,Arial,sans-serif;font-size:12px;'
        'color:#6b7280;border-top:1px solid #e5e7eb">Acme Outfitters · 1 Market Street · '
        f'<a href="https://aftercare.example/c/tok{number:08d}/preferences/" '
        'style="color:#6b7280">Email preferences</a> · '
        f'<a href="https://aftercare.example/c/tok{number:08d}/unsubscribe/" '
        'style="color:#6b7280">Unsubscribe</a></td></tr>\n'
        "</table></td></tr></table>\n</body></html>\n"
    )
    text = (
        subject.format(name=name, number=number)
        + "\n\n"
        + intro.format(name=name)
        + "\n\n"
        + "".join(f"- {p}: {(number * 7 + i * 13) % 90 + 10}.00\n" for i, p in enumerate(PRODUCTS))
        + "\n"
        + also
        + ":\n"
        + "".join(
            f"  {PRODUCTS[i]} https://acme-outfitters.example/p/{(number + i) % 400}\n"
            for i in range(3)
        )
        + f"\nEmail preferences: https://aftercare.example/c/tok{number:08d}/preferences/\n"
        + f"Unsubscribe: https://aftercare.example/c/tok{number:08d}/unsubscribe/\n"
    )
    unsubscribe = f"https://aftercare.example/api/v1/unsubscribe/tok{number:08d}"
    return Outgoing(
        message_id=number,
        channel="email",
        recipient=f"{name} <customer{number}@example.com>",
        sender=SENDER,
        reply_to="help@acme-outfitters.example",
        subject=subject.format(name=name, number=number),
        body_text=text,
        body_html=html,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>, <mailto:unsubscribe@aftercare.example>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


# -- the server (its own process) ------------------------------------------------------------


def serve(port: int) -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        received = 0

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            self.received += 1
            return "250 2.0.0 Ok: queued"

        async def handle_NOOP(  # noqa: N802
            self, server: object, session: object, envelope: object, arg: str
        ) -> str:
            return f"250 {self.received}"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.run(asyncio.sleep(10**9))
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


def received_count(port: int) -> int:
    with smtplib.SMTP("127.0.0.1", port) as client:
        code, reply = client.noop()
        return int(reply.decode().split()[0]) if code == 250 else -1


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the measurements ------------------------------------------------------------------------


def measure(label: str, server_pid: int, run: Callable[[], None], count: int) -> float:
    wall0, cpu0, server0 = time.perf_counter(), time.process_time(), cpu_seconds(server_pid)
    run()
    wall = time.perf_counter() - wall0
    cpu, server = time.process_time() - cpu0, cpu_seconds(server_pid) - server0
    rate = count / wall
    print(
        f"{label:<34} {rate:6.0f} msgs/s  ({count} in {wall:5.2f} s; client CPU"
        f" {cpu / count * 1e6:4.0f} µs/mail = {cpu / wall:4.0%} of the wall time,"
        f" server CPU {server / wall:4.0%})"
    )
    return rate


def compose_costs(items: list[Outgoing]) -> None:
    sender = mime.mailbox(SENDER, role="sender")
    sample = items[:300]
    start = time.perf_counter()
    for item in sample:
        mime.compose(
            item,
            sender=sender,
            recipient=mime.mailbox(item.recipient),
            reply_to=mime.mailbox(item.reply_to),
            date=mime.date_header(),
            eight_bit=True,
        )
    lean = (time.perf_counter() - start) / len(sample)
    start = time.perf_counter()
    for item in sample:
        message = EmailMessage()
        message["From"], message["To"], message["Reply-To"] = SENDER, item.recipient, item.reply_to
        message["Subject"] = item.subject
        for name, value in item.headers.items():
            message[name] = value
        message.set_content(item.body_text)
        message.add_alternative(item.body_html, subtype="html")
        message.as_bytes(policy=SMTP_POLICY)
    stdlib = (time.perf_counter() - start) / len(sample)
    print(
        f"compose one mail: stdlib email {stdlib * 1e6:.0f} µs, channels.mime {lean * 1e6:.0f} µs"
        f" ({stdlib / lean:.0f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--locale", choices=["mix", "en", "ko", "ja"], default="mix")
    parser.add_argument("--rounds", type=int, default=1, help="alternate (a) and (b) this often")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    locales = ["en", "ko", "ja"] if args.locale == "mix" else [args.locale]
    items = [outgoing(n, locales[n % len(locales)]) for n in range(1, args.count + 1)]
    html = [len(item.body_html.encode()) for item in items[:300]]
    text = [len(item.body_text.encode()) for item in items[:300]]
    print(
        f"{args.count} mails, locales {'/'.join(locales)}, HTML {min(html) / 1024:.1f}-"
        f"{max(html) / 1024:.1f} KB + text {min(text) / 1024:.1f}-{max(text) / 1024:.1f} KB;"
        f" load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    compose_costs(items)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        sender = mime.mailbox(SENDER, role="sender")
        prebuilt = [
            (
                mime.mailbox(item.recipient).address,
                mime.compose(
                    item,
                    sender=sender,
                    recipient=mime.mailbox(item.recipient),
                    reply_to=mime.mailbox(item.reply_to),
                    date=mime.date_header(),
                    eight_bit=True,
                ).raw,
            )
            for item in items[: len(locales)]
        ]
        shapes = ", ".join(f"{len(raw)} B/{raw.count(CRLF)} lines" for _, raw in prebuilt)
        print(f"pre-built ceiling messages: {shapes} (aiosmtpd reads DATA line by line)")

        def ceiling() -> None:
            with smtplib.SMTP("127.0.0.1", port) as client:
                for n in range(args.count):
                    rcpt, raw = prebuilt[n % len(prebuilt)]
                    client.sendmail(sender.address, [rcpt], raw, mail_options=["BODY=8BITMIME"])

        failures: list[str] = []

        def channel() -> None:
            config = SmtpConfig(host="127.0.0.1", port=port)
            with SmtpChannel(config, default_sender=SENDER) as smtp:
                for item in items:
                    delivery = smtp.send(item)
                    if delivery.outcome is not Outcome.SENT:
                        failures.append(delivery.answer)

        before = received_count(port)
        ceilings, channels, pid = [], [], server.pid
        for _ in range(args.rounds):
            ceilings.append(measure("(a) ceiling: smtplib.sendmail", pid, ceiling, args.count))
            channels.append(measure("(b) SmtpChannel.send, distinct", pid, channel, args.count))
        got = received_count(port) - before
        assert not failures, failures[:3]
        expected = 2 * args.count * args.rounds
        assert got == expected, f"server received {got}, expected {expected}"
        best_ceiling, best_channel = max(ceilings), max(channels)
        print(
            f"best of {args.rounds}: ceiling {best_ceiling:.0f}/s, channel {best_channel:.0f}/s,"
            f" ratio {best_channel / best_ceiling:.0%}; server received {got} mails;"
            f" load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
