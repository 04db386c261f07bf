from django.core.management.base import BaseCommand

from parta.billing.services.ledger import ledger_check


class Command(BaseCommand):
    help = (
        "Prove the balance ledger: every balance equals the sum of its entries, holds "
        "match, nothing is negative. Exits with status 1 on any problem."
    )

    def handle(self, *args, **options):
        problems = ledger_check()
        if not problems:
            self.stdout.write(self.style.SUCCESS("The ledger is consistent."))
            return
        for problem in problems:
            self.stderr.write(f"account {problem.account_id}: {problem.message}")
        raise SystemExit(1)
