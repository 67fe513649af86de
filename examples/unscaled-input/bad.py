"""CIFAR-10 CNN fed raw 0..255 pixels: the first layer's inputs are ~100x larger than He
initialization assumes (GL501)."""
from tensorflow import keras
from tensorflow.keras import layers

(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
x_train = x_train.astype("float32")
x_test = x_test.astype("float32")

model = keras.Sequential([
    layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer="he_normal", input_shape=(32, 32, 3)),
    layers.MaxPooling2D(),
    layers.Conv2D(64, 3, padding="same", activation="relu", kernel_initializer="he_normal"),
    layers.GlobalAveragePooling2D(),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=64, epochs=10, validation_data=(x_test, y_test))
