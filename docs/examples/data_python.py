# needs: data dlbcl as dlbcl-copy
# needs: data ctg as ctg-copy

import debinn_jax as dj

# base_url: local copies of the published files (without it: the published URLs)
fold = dj.fetch_dlbcl(data_home="datasets", base_url="file:dlbcl-copy")
print(fold.train)
print(fold.test.n_samples, "test cases;", fold.n_features, "features:", fold.feature_names[:3])

ctg = dj.fetch_ctg(data_home="datasets", base_url="file:ctg-copy")
print(ctg.X.shape, ctg.classes, ctg.class_counts())

fold = dj.fetch_dlbcl(data_home="datasets")  # in the cache now: nothing is downloaded
try:
    dj.fetch_hecktor_lite(data_home="datasets", download_if_missing=False)
except dj.FetchError as err:
    print(err)
