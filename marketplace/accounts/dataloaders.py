from marketplace.api.dataloaders import DataLoader, group_by

from .models import Address


class AddressesByUserIdLoader(DataLoader):
    def batch_load(self, user_ids):
        grouped = group_by(Address.objects.filter(user_id__in=user_ids).order_by("pk"), lambda a: a.user_id)
        return [grouped.get(user_id, []) for user_id in user_ids]
