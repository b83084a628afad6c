"""Hook implementations. Imports are lazy: this module loads while the engine starts."""
from marketplace.plugins import hookimpl


@hookimpl
def graphql_queries():
    from .schema import Query

    return Query


@hookimpl
def graphql_mutations():
    from .schema import Mutation

    return Mutation


@hookimpl
def graphql_type_fields():
    from .schema import type_fields

    return type_fields()


@hookimpl
def filter_products(previous_value, filters):
    from .schema import filter_products

    return filter_products(previous_value, filters)


# -- search: fitment and part numbers in documents, filters and exact matches -----------


@hookimpl
def search_mapping_fields():
    from elasticsearch.dsl import Keyword, Long

    return {"fits_vehicle_ids": Long(), "part_numbers": Keyword(normalizer="code")}


@hookimpl
def search_product_fields(products):
    from plugins.parts_storefront.models import Fitment, PartNumber

    ids = [p.pk for p in products]
    vehicles, numbers = {}, {}
    for product_id, vehicle_id in Fitment.objects.filter(
            variant__product_id__in=ids, variant__is_active=True).values_list("variant__product_id", "vehicle_id"):
        vehicles.setdefault(product_id, set()).add(vehicle_id)
    for product_id, normalized in PartNumber.objects.filter(
            variant__product_id__in=ids, variant__is_active=True).values_list("variant__product_id", "normalized"):
        numbers.setdefault(product_id, set()).add(normalized)
    return {pk: {"fits_vehicle_ids": sorted(vehicles.get(pk, ())), "part_numbers": sorted(numbers.get(pk, ()))}
            for pk in ids}


@hookimpl
def search_product_filters(filters):
    from elasticsearch.dsl import Q

    from marketplace.plugins.graphql import ValidationError, decode_id
    from plugins.parts_storefront.models import Vehicle, normalize_part_number
    from plugins.parts_storefront.schema import VehicleNode

    clauses = []
    if filters.get("fits_vehicle") is not None:
        vehicle_id = int(decode_id(filters["fits_vehicle"], VehicleNode, field="fits_vehicle"))
        year = filters.get("fits_year")
        if year is not None and not Vehicle.objects.filter(pk=vehicle_id, year_from__lte=year,
                                                           year_to__gte=year).exists():
            clauses.append(Q("match_none"))  # the car's model year is outside the vehicle's range
        else:
            clauses.append(Q("term", fits_vehicle_ids=vehicle_id))
    elif filters.get("fits_year") is not None:
        raise ValidationError("fitsYear needs fitsVehicle.", field="fits_year")
    if filters.get("part_number") is not None:
        number = normalize_part_number(filters["part_number"])
        if not number:
            raise ValidationError("Give a part number.", code="REQUIRED", field="part_number")
        clauses.append(Q("term", part_numbers=number))
    return clauses or None


@hookimpl
def search_code_match(code, backend):
    if backend == "elasticsearch":
        from elasticsearch.dsl import Q

        return Q("term", part_numbers=code)
    from django.db.models import Exists, OuterRef

    from plugins.parts_storefront.models import PartNumber

    return Exists(PartNumber.objects.filter(variant__product_id=OuterRef("pk"), variant__is_active=True,
                                            normalized=code))


# -- published for other plugins (hookspecs.py) ----------------------------------------------
@hookimpl
def garage_vehicles(user_ids):
    from .models import GarageVehicle

    found = {}
    rows = (GarageVehicle.objects.filter(user_id__in=list(user_ids)).order_by("user_id", "-is_default", "pk")
            .values_list("user_id", "vehicle_id", "vehicle__model__make__slug", "vehicle__model__slug", "year",
                         "vehicle__engine", "is_default"))
    for user_id, vehicle_id, make, model, year, engine, is_default in rows:
        found.setdefault(user_id, []).append({"vehicle_id": vehicle_id, "make": make, "model": model, "year": year,
                                              "engine": engine, "is_default": is_default})
    return found
